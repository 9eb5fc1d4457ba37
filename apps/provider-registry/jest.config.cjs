module.exports = { ...require('../../jest.preset.cjs'), displayName: 'provider-registry', rootDir: __dirname };
