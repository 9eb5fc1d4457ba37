import { z } from 'zod';
import { AUTHORIZATION_STATUSES, AuthorizationStatus, OAuthProvider } from './providers';
import type { RestrictionPart, TokenRestriction } from './token-policies';

/** `oauth.User` of seed 000: the provider's user, normalized, with the provider's own answer in `raw`. */
export interface OAuthUser {
  sub?: string;
  name?: string;
  givenName?: string;
  familyName?: string;
  nickName?: string;
  email?: string;
  picture?: string;
  locale?: string;
  description?: string;
  raw?: Record<string, unknown>;
}

/**
 * `oauth.User` as the REST surface sends it: every field of the seed present, null where the
 * provider told nothing, and the provider's own answer in `raw` (`{}` when there was none).
 */
export type OAuthUserResponse = { [K in Exclude<keyof OAuthUser, 'raw'>]-?: string | null } & {
  raw: Record<string, unknown>;
};

/** `models.AuthorizedProvider` of seed 000. */
export interface AuthorizedProvider {
  id: string;
  orgId: string;
  userId: string;
  oauthClientId: string;
  credentialId: string;
  status: AuthorizationStatus;
  provider: OAuthProvider;
  /** When the refresh token expires, where the provider said (GitHub); null when it did not. */
  refreshTokenExpiresAt: string | null;
  createdAt: string;
}

/** `handler.AuthorizeProviderResponse`. */
export interface AuthorizeProviderResponse {
  redirectUrl: string;
  state: string;
}

/** `handler.OAuthCallbackRequest`, plus RFC 9207 `iss` when the provider sent one. */
export interface ProviderCallbackRequest {
  code: string;
  providerId: string;
  state: string;
  iss?: string;
}

/** What the hosted consent start page shows before the browser goes to the provider. */
export interface ConsentPage {
  providerName: string;
  providerType: string;
  /** Who the account will be linked to: the user's name or e-mail address, else their subject. */
  userLabel: string;
  orgId: string;
  /** ISO time after which the consent must be started again. */
  expiresAt: string;
  /** Origin of the provider's authorization endpoint (the start page's form redirects there). */
  authorizationOrigin: string;
}

/** `handler.CallbackResponse`. */
export interface ProviderCallbackResponse {
  authorizedProvider: AuthorizedProvider;
  userInfo: OAuthUserResponse;
}

/** `handler.GetAccessTokenResponse`. */
export interface AccessTokenResponse {
  accessToken: string;
  /** ISO time; null when the provider gave no lifetime. */
  expiresAt: string | null;
  authorizedOauthProvider: AuthorizedProvider;
  /** Only in the broker's sealed reply to the gateway (see `AcquiredToken.ledgerTicket`); never sent to an HTTP client. */
  ledgerTicket?: string;
}

/**
 * `tokens.acquire`: an access token of an authorization, by id or by user + provider, valid for at
 * least `minValiditySeconds` more (default: a quarter of the token's lifetime, at most 60 s; a token
 * refreshed for this call is served even if the provider's lifetime is shorter than asked). A service account may name any user of its org; a
 * user only themselves.
 */
export interface AcquireTokenRequest {
  authorizationId?: string;
  userId?: string;
  providerId?: string;
  /**
   * Which of the user's accounts at the provider (by user + provider): the account's id at the
   * provider or its label (login, e-mail). Needed only when the user linked several.
   */
  account?: string;
  minValiditySeconds?: number;
  /** A narrower token than the authorization's own (see `attenuated` in the answer). */
  restriction?: TokenRestriction;
  /** Set by the gateway for its REST route (the ledger's `path`); bus callers leave it out. */
  channel?: 'rest';
}

export interface AcquiredToken {
  accessToken: string;
  tokenType: string;
  /** ISO time; absent when the provider gave no lifetime. */
  expiresAt?: string;
  authorizationId: string;
  providerId: string;
  userId: string;
  scopes: string[];
  /**
   * True when the provider minted a narrower token for this request (a downscoped or installation
   * token); false when the authorization's own token was served. Never assume narrowing otherwise.
   */
  attenuated: boolean;
  /** Parts of the requested restriction the provider could not enforce (the token is wider there). */
  unmet?: RestrictionPart[];
  /**
   * The serve's ledger ticket (opaque; a MAC only the broker can make), in the sealed reply of a
   * REST serve without a restriction: the gateway hands it back in `tokens.ledger.hits` to record
   * the hits it answered from its cache, and removes it before answering its HTTP client.
   */
  ledgerTicket?: string;
}

/** Events the broker publishes on the bus (ids and statuses only, never a token). */
export const BROKER_EVENT_TYPES = [
  'authorization.created',
  'authorization.refreshed',
  'authorization.expired',
  'authorization.revoked',
] as const;
export type BrokerEventType = (typeof BROKER_EVENT_TYPES)[number];

export interface BrokerEvent {
  type: BrokerEventType;
  orgId: string;
  authorizationId: string;
  providerId: string;
  userId: string;
  status: AuthorizationStatus;
  /** ISO time of the event. */
  at: string;
}

/** What a subscriber accepts as an event (after checking its signature). */
export const brokerEventSchema: z.ZodType<BrokerEvent> = z.strictObject({
  type: z.enum(BROKER_EVENT_TYPES),
  orgId: z.string().min(1).max(64),
  authorizationId: z.string().min(1).max(256),
  providerId: z.string().min(1).max(256),
  userId: z.string().min(1).max(256),
  status: z.enum(AUTHORIZATION_STATUSES),
  at: z.string().datetime(),
});

/** Redis pub/sub channel of the events: `<BUS_PREFIX>:events`. */
export function brokerEventsChannel(prefix: string): string {
  return `${prefix}:events`;
}
