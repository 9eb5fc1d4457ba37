export * from './lib/test-services';
export * from './lib/demo-sign-in';
export * from './lib/demo-idp-browser';
export * from './lib/ports';
export * from './lib/bus-keys';
export * from './lib/openapi-seeds/seed-components';
export * from './lib/openapi-seeds/seed-diff';
