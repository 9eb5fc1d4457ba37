/** The token path's settings, hooks and the shape of what it serves. */

export interface TokenPathOptions {
  /** How long a refresh lease lasts (another replica may take over after it). */
  leaseMs: number;
  /**
   * Hard timeout of the provider call. The holder renews its lease every quarter lease while the
   * call runs, so a slow but live call keeps the lease (no second refresh spends the same refresh
   * token); a holder that dies stops renewing and its lease lapses within `leaseMs`.
   */
  providerTimeoutMs: number;
  /** How often a caller waiting on another replica's refresh re-reads the row. */
  pollMs: number;
  /** A token is never served with less life than this, whatever the caller accepts. */
  minimumServedSeconds: number;
  /**
   * How long a decrypted token may be served from this process's memory without reading the row
   * again. Every change this process makes, and every broker event from other replicas, drops the
   * entry at once; this bound covers a missed event.
   */
  memoryTtlMs: number;
}

export const DEFAULT_TOKEN_PATH_OPTIONS: TokenPathOptions = {
  leaseMs: 20_000,
  providerTimeoutMs: 45_000,
  pollMs: 50,
  minimumServedSeconds: 5,
  memoryTtlMs: 2_000,
};

/**
 * Fault injection for end-to-end tests (never wired in production): lets a test stop a replica at
 * the worst moment, between the provider's answer and the database write.
 */
export interface TokenPathFaults {
  afterProviderAnswer?: () => Promise<void>;
}

/** Provider of `TokenPathFaults` (optional). */
export const TOKEN_PATH_FAULTS = Symbol('TOKEN_PATH_FAULTS');

/**
 * Told of every token served to a caller (authorization id, and the served token's expiry as the
 * token set's identity): the refresh schedule refreshes ahead only what is in use.
 */
export type UsageRecorder = (authorizationId: string, tokenSetKey: number) => void;

/** The consumer's policy as the token path asks it: throws to refuse serving this authorization's token. */
export type AdmitCheck = (facts: { userId: string; providerId: string; scopes: string[] }) => Promise<void>;

/** An access token handed to a caller, with what it belongs to. */
export interface ServedToken {
  accessToken: string;
  tokenType: string;
  expiresAt: Date | null;
  authorizationId: string;
  providerId: string;
  userId: string;
  scopes: string[];
  /** The rest of the authorization row, so a REST answer needs no second read. */
  oauthClientId: string;
  credentialId: string;
  createdAt: Date;
  refreshTokenExpiresAt: Date | null;
  /** Whether this call refreshed it (for metrics and tests). */
  refreshed: boolean;
}
