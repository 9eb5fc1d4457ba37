// Shared jest settings: swc transform (Nest DI needs decorator metadata), real services, long timeouts.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  moduleNameMapper: {
    '^@broker/(auth-kit|broker-client|bus|bus-protocol|contracts|crypto|egress|identity|provider-adapters|registry|service-runtime|testing|tokens|workflows)$': path.join(__dirname, 'libs/$1/src/index.ts'),
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  testTimeout: 30000,
  globalSetup: path.join(__dirname, 'tools/jest/global-setup.mjs'),
  globalTeardown: path.join(__dirname, 'tools/jest/global-teardown.mjs'),
};
