/**
 * The external-auth surface of seed 001 (Coder's `/api/v2/external-auth`): snake_case, as the seed.
 * `{externalauth}` is the id (UUID) of one of the org's providers.
 */

/** Coder's `expires` of a link whose access token has no known expiry: Go's zero time, as Coder sends it. */
export const NO_EXPIRY = '0001-01-01T00:00:00Z';

/** `codersdk.ExternalAuthLink`: one of the user's links (authorizations). */
export interface ExternalAuthLink {
  provider_id: string;
  created_at: string;
  updated_at: string;
  has_refresh_token: boolean;
  /** Expiry of the current access token; `NO_EXPIRY` when the provider gave no lifetime. */
  expires: string;
  /** The provider's validate call accepted a valid access token of the link. */
  authenticated: boolean;
  /** Why validation failed; `""` when it did not. */
  validate_error: string;
}

/** `codersdk.ExternalAuthLinkProvider`: a provider of the org the user can link, with what it supports. */
export interface ExternalAuthLinkProvider {
  id: string;
  type: string;
  device: boolean;
  display_name: string;
  /** No icons are configured here: `""` (clients pick one by `type`). */
  display_icon: string;
  /** The broker refreshes a link's tokens (whenever the provider gave a refresh token). */
  allow_refresh: boolean;
  /** `authenticated` of a link is the provider's own answer (otherwise: the token has not expired). */
  allow_validate: boolean;
  supports_revocation: boolean;
  /** PKCE methods used with this provider (`["S256"]`, or `[]` where it takes none). */
  code_challenge_methods_supported: string[];
}

/** `codersdk.ListUserExternalAuthResponse`: `GET /api/v2/external-auth`. */
export interface ListUserExternalAuthResponse {
  providers: ExternalAuthLinkProvider[];
  links: ExternalAuthLink[];
}

/** `codersdk.ExternalAuthUser`. */
export interface ExternalAuthUser {
  /** The provider's numeric user id where it has one (GitHub, GitLab); 0 otherwise (see `login`). */
  id: number;
  login: string;
  avatar_url: string;
  profile_url: string;
  name: string;
}

/** `codersdk.ExternalAuthAppInstallation` (GitHub Apps only). */
export interface ExternalAuthAppInstallation {
  id: number;
  account: ExternalAuthUser;
  configure_url: string;
}

/** `codersdk.ExternalAuth`: a provider as the user sees it. */
export interface ExternalAuth {
  authenticated: boolean;
  device: boolean;
  display_name: string;
  supports_revocation: boolean;
  user: ExternalAuthUser | null;
  installations: ExternalAuthAppInstallation[];
  app_install_url: string;
  app_installable: boolean;
}

/** `codersdk.DeleteExternalAuthByIDResponse`. */
export interface DeleteExternalAuthResponse {
  token_revoked: boolean;
  /** Why the token was not revoked; `""` when it was. */
  token_revocation_error: string;
}

/** `codersdk.ExternalAuthDevice`: a started device authorization (RFC 8628 §3.2). */
export interface ExternalAuthDevice {
  device_code: string;
  user_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
}

/** Where a device authorization stands, in RFC 8628 §3.5 terms (`authorized`: the account is linked). */
export const DEVICE_EXCHANGE_STATES = [
  'authorized',
  'authorization_pending',
  'slow_down',
  'access_denied',
  'expired_token',
  'failed',
] as const;
export type DeviceExchangeState = (typeof DEVICE_EXCHANGE_STATES)[number];

export interface DeviceExchangeResult {
  state: DeviceExchangeState;
  /** A sentence for the user (never the device code). */
  detail: string;
}

/** `codersdk.Response`: the error body of this surface. */
export interface ExternalAuthErrorBody {
  message: string;
  detail?: string;
  validations?: { field: string; detail: string }[];
}
