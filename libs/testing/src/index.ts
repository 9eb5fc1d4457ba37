export * from './lib/test-services';
export * from './lib/demo-sign-in';
export * from './lib/ports';
export * from './lib/bus-keys';
