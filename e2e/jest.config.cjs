// End-to-end tests run the built services as separate processes (build first: `npm test` does).
module.exports = { ...require('../jest.preset.cjs'), displayName: 'e2e', rootDir: __dirname, testTimeout: 60000 };
