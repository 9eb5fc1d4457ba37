export * from './lib/envelope-cipher';
export * from './lib/keyed-hash';
export * from './lib/keyring';
export * from './lib/token-fingerprint';
