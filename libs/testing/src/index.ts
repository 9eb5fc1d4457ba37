export * from './lib/test-services';
