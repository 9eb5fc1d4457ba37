export * from './lib/envelope-cipher';
export * from './lib/keyed-hash';
export * from './lib/keyring';
