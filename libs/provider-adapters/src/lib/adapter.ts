import type {
  GitHubAppSettings,
  OAuthUser,
  ProviderType,
  RestrictionPart,
  TokenRestriction,
} from '@broker/contracts';
import type { ProviderCallError, ProviderClient, ProviderTokenSet } from './provider-call';
import type { ResolvedProvider } from './resolve';

/**
 * One provider type's way of doing OAuth. Every difference between providers lives behind this
 * interface; the token path, the consent flow, the device flow and the external-auth surface only
 * ever call it. Errors are thrown as `ProviderCallError` (kind: transient / invalid_grant /
 * invalid_client / rejected), never carrying a token or a secret in their message.
 */
export interface ProviderAdapter {
  readonly type: ProviderType;
  /** What the adapter can do for this instance (drives the README table and `supports_revocation` / `device`). */
  capabilities(provider: ResolvedProvider): AdapterCapabilities;
  /** The URL the user is sent to (PKCE S256 when a challenge is given and the provider supports it). */
  authorizationUrl(provider: ResolvedProvider, params: AuthorizationUrlParams): string;
  /** `iss`: the callback's RFC 9207 parameter, if any; checked against `expectedIssuer` when the provider has one. */
  exchangeCode(
    client: AdapterClient,
    params: { code: string; redirectUri: string; codeVerifier?: string; iss?: string },
  ): Promise<ProviderTokenSet>;
  /** May return a rotated refresh token, or none (then the caller keeps the old one). */
  refresh(client: AdapterClient, refreshToken: string): Promise<ProviderTokenSet>;
  /** Best effort, bounded, never throws. `unsupported` when the provider has no revocation API. No `hint`: no `token_type_hint` sent. */
  revoke(
    client: AdapterClient,
    token: { value: string; hint?: 'refresh_token' | 'access_token' },
  ): Promise<RevocationOutcome>;
  /** The provider's user behind an access token, as seed 000's `oauth.User` (answer in `raw`). */
  userInfo(client: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser>;
  /** Whether the token still works at the provider: `{valid: false, error}` for a refused token; throws only for transient failures. */
  validate(client: AdapterClient, accessToken: string): Promise<{ valid: boolean; error?: string }>;
  /**
   * Installations of the provider's app that the user can reach (GitHub Apps), best effort: `[]`
   * when the token is not an app's (an OAuth app) or the provider does not have them.
   */
  installations?(
    client: Omit<AdapterClient, 'clientSecret'>,
    accessToken: string,
  ): Promise<AppInstallation[]>;
  /**
   * The install page of the provider's app (GitHub Apps): the URL the org configured, else the one
   * its slug gives (configured, or named by an installation the user reaches); `""` when unknown.
   */
  appInstallUrl?(
    provider: ResolvedProvider,
    app: GitHubAppSettings | undefined,
    installations: AppInstallation[],
  ): string;
  /** RFC 8628 device authorization (only when `capabilities().deviceFlow`). */
  startDeviceAuthorization?(client: AdapterClient, scopes: string[]): Promise<DeviceAuthorization>;
  /** One poll of the token endpoint with a device code. Never throws: failures (transient ones too) are `failed`. */
  pollDeviceToken?(client: AdapterClient, deviceCode: string): Promise<DevicePollResult>;
  /** The issuer an authorization response's `iss` (RFC 9207) must equal; undefined when the provider has no fixed one. */
  expectedIssuer?(provider: ResolvedProvider): string | undefined;
  /** The parts of a restriction this provider can enforce by minting a narrower token (none: it cannot narrow). */
  narrowing?(provider: ResolvedProvider): RestrictionPart[];
  /**
   * Mints a token narrower than `accessToken` at the provider (Box downscoping, GitHub scoped user
   * tokens): null when none of `want`'s parts can be enforced here; `enforced` says which were.
   */
  narrow?(
    client: AdapterClient,
    accessToken: string,
    want: TokenRestriction,
  ): Promise<NarrowedTokenSet | null>;
}

/** What became of a revocation: never thrown, so a caller can remove the link whatever happened. */
export interface RevocationOutcome {
  revoked: boolean;
  /** The provider has no revocation API (not a failure: the user revokes in the provider's settings). */
  unsupported?: boolean;
  /** Why it failed (never contains the token or the client secret). */
  error?: string;
}

/** A token the provider minted narrower than the authorization's own (not refreshable: minted again from the parent). */
export interface NarrowedTokenSet {
  accessToken: string;
  tokenType: string;
  expiresAt?: Date;
  scopes: string[];
  enforced: RestrictionPart[];
}

/** A provider client with the full resolved provider (the adapter picks what it needs). */
export interface AdapterClient extends Omit<ProviderClient, 'provider'> {
  provider: ResolvedProvider;
}

/** An installation of the provider's app on an account (GitHub App installations). */
export interface AppInstallation {
  id: number;
  account: { id: number; login: string; name: string; avatarUrl: string; profileUrl: string };
  /** Where the installation is configured at the provider. */
  configureUrl: string;
  /** The app's slug (GitHub: `{web}/apps/{slug}/installations/new` installs it elsewhere). */
  appSlug?: string;
}

export interface AdapterCapabilities {
  /** The authorization code flow takes PKCE S256. */
  pkce: boolean;
  /** A refresh may return a new refresh token that replaces (and may invalidate) the old one. */
  refreshRotation: boolean;
  /** `revoke` reaches a revocation API (otherwise it answers `unsupported`). */
  revocation: boolean;
  /** `startDeviceAuthorization` / `pollDeviceToken` work for this instance. */
  deviceFlow: boolean;
  /** The provider type has self-hosted deployments addressed by `host` / `baseUrl` (this instance's own flag: `provider.selfHosted`). */
  selfHosted: boolean;
  /** `userInfo` reaches a user endpoint of this instance (otherwise it can only answer `{}`). */
  userInfo: boolean;
  /** `validate` asks the provider (otherwise a token counts as valid until it expires). */
  validate: boolean;
  /** Whether a provider's `skipConsent` changes anything here (see ConsentPrompt). */
  consentPrompt: ConsentPrompt;
  /**
   * How long an unused refresh token stays valid at this provider (seconds), or null when it does
   * not expire unused: idle authorizations are kept alive only this often (see refresh-token-idle.ts).
   */
  refreshTokenIdleSeconds: number | null;
}

export interface AuthorizationUrlParams {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge?: string;
  /**
   * The provider's `skipConsent` negated: ask the provider to show its consent screen even to a
   * user who consented before (`prompt=consent` where the provider takes it). `false` leaves it to
   * the provider (a returning user passes straight through). Undefined: the adapter's default.
   */
  forceConsent?: boolean;
}

/**
 * How a provider's consent screen can be asked for: `optional` (a parameter shows it on demand),
 * `always` (the provider requires it on every authorization), `unsupported` (no such parameter:
 * the provider asks on first consent only).
 */
export type ConsentPrompt = 'optional' | 'always' | 'unsupported';

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds the device code lives. */
  expiresIn: number;
  /** Seconds to wait between polls (5 when the provider says nothing, RFC 8628 §3.2). */
  interval: number;
}

/** The outcome of one device-token poll (RFC 8628 §3.5). */
export type DevicePollResult =
  | { status: 'authorized'; tokens: ProviderTokenSet }
  | { status: 'pending' }
  /** `interval`: the new interval when the provider names one (GitHub does); otherwise add 5 s (RFC 8628 §3.5). */
  | { status: 'slow_down'; interval?: number }
  | { status: 'denied' }
  | { status: 'expired' }
  | { status: 'failed'; error: ProviderCallError };
