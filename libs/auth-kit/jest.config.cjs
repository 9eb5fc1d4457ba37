module.exports = { ...require('../../jest.preset.cjs'), displayName: 'auth-kit', rootDir: __dirname };
