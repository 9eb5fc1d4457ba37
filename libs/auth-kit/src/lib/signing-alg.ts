/**
 * The one algorithm the broker signs its tokens with (the token-broker's signing keys) and the
 * only one a verifier accepts: a token naming another `alg` is refused before any key is tried.
 */
export const SIGNING_ALG = 'ES256';
