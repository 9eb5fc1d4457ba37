export * from './lib/bus-errors';
export * from './lib/bus-keys';
export * from './lib/bus-requester';
export * from './lib/hpke-suite';
export * from './lib/redis-connection';
export * from './lib/sealing';
export * from './lib/signed-events';
export * from './lib/wire';
