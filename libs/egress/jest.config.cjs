// This lib needs no PostgreSQL or Redis: skip the preset's throwaway-services setup.
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'egress',
  rootDir: __dirname,
  globalSetup: undefined,
  globalTeardown: undefined,
};
