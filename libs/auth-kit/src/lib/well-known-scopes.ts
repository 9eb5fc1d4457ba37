/** Scope that lets a caller obtain tokens for other subjects of its org. */
export const DELEGATE_SCOPE = 'tokens:delegate';

/** The OIDC scope: asks for an ID token; any client allowed the code grant may request it. Never a permission. */
export const OPENID_SCOPE = 'openid';
