import { refreshAheadDue } from '../refresh/refresh-timing';
import { authorizationMissing, gone } from './refusals';
import type { CredentialRepository, CredentialRow } from './credential-repository';
import type { ServedToken } from './options';

/** How long the current token lives in all (from its last write to its expiry); infinite when unknown. */
export function lifetimeSeconds(row: CredentialRow | null): number {
  if (!row?.expires_at || !row.updated_at) return Number.POSITIVE_INFINITY;
  return (row.expires_at.getTime() - row.updated_at.getTime()) / 1000;
}

/** Whether the row's token is not yet due for its refresh ahead (see `refreshAheadDue`). */
export function refreshAheadNotDue(row: CredentialRow): boolean {
  return !(row.expires_at && row.updated_at && refreshAheadDue(row.updated_at, row.expires_at));
}

/** Seconds left before `expiresAt` (infinite when the token does not expire). */
export function remaining(expiresAt: Date | null): number {
  return expiresAt ? (expiresAt.getTime() - Date.now()) / 1000 : Number.POSITIVE_INFINITY;
}

/** The authorization's facts a served token carries besides the token itself. */
export function facts(
  row: CredentialRow,
  credentialId: string,
): Pick<ServedToken, 'oauthClientId' | 'credentialId' | 'createdAt' | 'refreshTokenExpiresAt'> {
  return {
    oauthClientId: row.oauth_client_id,
    credentialId,
    createdAt: row.created_at,
    refreshTokenExpiresAt: row.refresh_token_expires_at,
  };
}

/** Decides whether a stored token may be served as it is, and decrypts it when it may. */
export class ServeableTokens {
  constructor(
    private readonly credentials: CredentialRepository,
    private readonly minimumServedSeconds: number,
  ) {}

  /**
   * The life a refresh ahead asks for: the token's whole lifetime (which only a token written in the
   * last few seconds has), or `fallback` when it is not known; never below the minimum served.
   */
  wholeLifetime(row: CredentialRow | null, fallback: number): number {
    const lifetime = lifetimeSeconds(row);
    return Math.max(Number.isFinite(lifetime) ? lifetime : fallback, this.minimumServedSeconds);
  }

  /**
   * The token, if the authorization is active and it has at least `min` seconds left; throws for a
   * dead authorization. `since`: the generation the caller saw; a token written after it is served
   * with the minimum life (the freshest there is, even if shorter than asked).
   */
  from(
    row: CredentialRow | null,
    authorizationId: string,
    min: number,
    since = Number.POSITIVE_INFINITY,
  ): ServedToken | null {
    if (!row) throw authorizationMissing();
    if (row.status !== 'active') throw gone(row.status);
    if (!row.access_token || !row.credential_id) return null;
    // Never ask more than a fresh token could give (less 5 s): when the provider's lifetime is shorter
    // than the caller's need, a token refreshed moments ago is the best there is, not a reason to refresh again.
    const achievable = Math.max(lifetimeSeconds(row) - 5, this.minimumServedSeconds);
    const need = (row.generation ?? 0) > since ? this.minimumServedSeconds : Math.min(min, achievable);
    if (row.expires_at && remaining(row.expires_at) < need) return null;
    return {
      accessToken: this.credentials.decryptAccessToken(row.org_id, row.credential_id, row.access_token),
      tokenType: row.token_type ?? 'Bearer',
      expiresAt: row.expires_at,
      authorizationId,
      providerId: row.provider_id,
      userId: row.user_id,
      scopes: row.scopes,
      ...facts(row, row.credential_id),
      refreshed: false,
    };
  }
}
