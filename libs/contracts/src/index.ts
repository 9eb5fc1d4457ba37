export * from './lib/bus-errors';
export * from './lib/jobs';
export * from './lib/message-patterns';
export * from './lib/providers';
export * from './lib/services';
export * from './lib/scopes';
export * from './lib/oauth-server';
export * from './lib/tokens';
