module.exports = { ...require('../../jest.preset.cjs'), displayName: 'broker-client', rootDir: __dirname };
