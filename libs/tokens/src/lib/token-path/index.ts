// The token path's public face (the rest of the folder is its inside).
export * from './options';
export * from './token-path';
