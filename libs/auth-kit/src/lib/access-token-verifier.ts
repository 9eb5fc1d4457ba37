import { JSONWebKeySet, createLocalJWKSet, errors, jwtVerify } from 'jose';
import type { AccessTokenClaims } from '@broker/contracts';
import { RevocationSync } from './revocation/revocation-list';
import { SIGNING_ALG } from './signing-alg';

/** Why a bearer token was refused (for `WWW-Authenticate`; never includes the token). */
export class InvalidAccessTokenError extends Error {}

/**
 * Verifies the broker's access tokens against its JWKS: allowed algorithm only, issuer, audience,
 * expiry, and not revoked. The key set is cached and refetched when a token names a key it does
 * not hold (rotation). Revocation is checked on every use against the process's revocation list,
 * which is never older than its staleness bound (else RevocationStateUnavailableError).
 */
export class AccessTokenVerifier {
  private keySet?: ReturnType<typeof createLocalJWKSet>;
  private fetchedAt = 0;

  constructor(
    private readonly fetchJwks: () => Promise<JSONWebKeySet>,
    private readonly issuer: string,
    private readonly audience: string,
    private readonly minRefetchMs = 5_000,
    /** The revocation list; without it, nothing is checked for revocation (unit tests of signatures only). */
    private readonly revocations?: RevocationSync,
    /** Other audiences the broker issues tokens for (RFC 8707 resource servers): accepted only when a caller asks (`verify(token, audiences)`). */
    private readonly resourceAudiences: readonly string[] = [],
  ) {}

  /**
   * Verified signatures are remembered until the token expires (a signed token cannot change; only
   * a valid one is remembered), so a caller that sends the same token on every request has its
   * signature checked once. Revocation is checked every time.
   */
  private readonly verified = new Map<string, AccessTokenClaims>();

  /**
   * `accept`: the audiences the caller takes (default: the broker's API only, so a token bound to
   * another resource is refused here, RFC 8707).
   */
  async verify(token: string, accept: readonly string[] = [this.audience]): Promise<AccessTokenClaims> {
    let claims = this.verified.get(token);
    if (claims && claims.exp * 1000 <= Date.now()) {
      this.verified.delete(token);
      claims = undefined;
    }
    if (!claims) {
      claims = await this.verifyFresh(token);
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(token, claims);
    }
    const aud = (claims as { aud?: unknown }).aud;
    const auds = Array.isArray(aud) ? aud : [aud];
    if (!auds.some((a) => typeof a === 'string' && accept.includes(a)))
      throw new InvalidAccessTokenError('token is for another resource (audience)');
    if (this.revocations && (await this.revocations.isRevoked(claims)))
      throw new InvalidAccessTokenError('token revoked');
    return claims;
  }

  /** Every audience this verifier knows: the broker's API and the resource servers. */
  get audiences(): string[] {
    return [this.audience, ...this.resourceAudiences];
  }

  /** The claims of a valid, unexpired token whether or not it is revoked (to revoke it: RFC 7009). */
  verifyIgnoringRevocation(token: string): Promise<AccessTokenClaims> {
    return this.verifyFresh(token);
  }

  private async verifyFresh(token: string): Promise<AccessTokenClaims> {
    try {
      return await this.verifyOnce(token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey && Date.now() - this.fetchedAt > this.minRefetchMs) {
        this.keySet = undefined;
        return this.verifyOnce(token).catch((e: unknown) => Promise.reject(describe(e)));
      }
      throw describe(err);
    }
  }

  private async verifyOnce(token: string): Promise<AccessTokenClaims> {
    if (!this.keySet) {
      this.keySet = createLocalJWKSet(await this.fetchJwks());
      this.fetchedAt = Date.now();
    }
    const { payload } = await jwtVerify(token, this.keySet, {
      algorithms: [SIGNING_ALG],
      issuer: this.issuer,
      // Any audience the broker issues for; which one a caller accepts is checked in verify().
      audience: [this.audience, ...this.resourceAudiences],
      typ: 'at+jwt',
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    });
    if (
      typeof payload['org_id'] !== 'string' ||
      typeof payload['client_id'] !== 'string' ||
      typeof payload['scope'] !== 'string' ||
      typeof payload['iat'] !== 'number'
    ) {
      throw new InvalidAccessTokenError('token lacks org_id, client_id or scope');
    }
    return payload as unknown as AccessTokenClaims;
  }
}

function describe(err: unknown): Error {
  if (err instanceof InvalidAccessTokenError) return err;
  if (err instanceof errors.JWTExpired) return new InvalidAccessTokenError('token expired');
  if (err instanceof errors.JOSEError) return new InvalidAccessTokenError('token invalid');
  return err instanceof Error ? err : new Error(String(err));
}
