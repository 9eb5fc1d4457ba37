import type {
  CreateProviderRequest,
  JobLocation,
  ListProvidersQuery,
  OAuthProvider,
  OAuthProviderJob,
  ProviderList,
  UpdateProviderRequest,
} from './providers';
import type {
  AccessTokenResponse,
  AcquireTokenRequest,
  AcquiredToken,
  AuthorizedProvider,
  AuthorizeProviderResponse,
  OAuthUserResponse,
  ProviderCallbackRequest,
  ProviderCallbackResponse,
} from './tokens';
import type { InternalProviderCredentials } from './providers';
import type {
  DeleteExternalAuthResponse,
  DeviceExchangeResult,
  ExternalAuth,
  ExternalAuthDevice,
  ListUserExternalAuthResponse,
} from './external-auth';
import type {
  AuthorizeRequest,
  AuthorizeResult,
  CompleteAuthorizationRequest,
  CompleteAuthorizationResult,
  DelegatedTokenRequest,
  JsonWebKeySet,
  TokenRequest,
  TokenResponse,
  TokenResult,
  UserInfoResponse,
} from './oauth-server';
import type {
  AdminAction,
  AdminRevokeRequest,
  AdminRevokeResult,
  IntrospectionResult,
  RevocationResult,
  RevocationSnapshot,
  TokenIntrospectionRequest,
  TokenRevocationRequest,
} from './revocation';
import type { ConsentPage } from './tokens';
import type {
  CreateOAuthSetupRequest,
  ListOAuthSetupsQuery,
  OAuthSetup,
  OpenedSetup,
  Page,
  SetupOutcome,
  SetupPageInfo,
  UpdateOAuthSetupRequest,
} from './oauth-setups';
import type {
  CreateWebhookEndpointRequest,
  CreatedWebhookEndpoint,
  UpdateWebhookEndpointRequest,
  WebhookDelivery,
  WebhookEndpoint,
} from './webhooks';
import type { NewTokenGrant, TokenGrant } from './token-policies';
import type { LedgerEntry, LedgerHits, LedgerLookup, LedgerPage, LedgerQuery } from './token-ledger';
import type { TokenExchangeRequest, TokenExchangeResult } from './token-exchange';
import type { RevocationJob, StartRevocationJob } from './revocation-jobs';
import type {
  AuthorizationServerFeatures,
  ClientMetadataDocumentSettings,
} from './client-metadata-documents';

/**
 * Every request/reply message on the bus: pattern → request and reply types. Pattern names are
 * part of the wire contract between deployed versions: add new ones, never rename.
 */
export interface BusContract {
  'providers.list': { request: ListProvidersQuery; reply: ProviderList };
  'providers.get': { request: { id: string }; reply: OAuthProvider };
  'providers.create': { request: CreateProviderRequest; reply: OAuthProvider };
  'providers.update': { request: { id: string; changes: UpdateProviderRequest }; reply: OAuthProvider };
  'providers.delete': { request: { id: string }; reply: JobLocation };
  'jobs.get': { request: { id: string }; reply: OAuthProviderJob };
  'jobs.create': { request: { type: string }; reply: JobLocation };
  /** Internal (token-broker → registry, scope `providers:credentials`): what a token call to the provider needs. */
  'providers.credentials': { request: { id: string }; reply: InternalProviderCredentials };
  'authorizations.authorize': {
    request: { providerId: string; state?: string; redirectUri?: string };
    reply: AuthorizeProviderResponse;
  };
  'authorizations.callback': { request: ProviderCallbackRequest; reply: ProviderCallbackResponse };
  /** The browser callback: no caller token, the single-use state is the proof (like `identity.authorize-complete`). */
  'authorizations.browser-callback': {
    /**
     * As the browser brought it: a provider that reported an error sends no code (possibly no
     * state), and its `error` code instead. `browserBinding`: SHA-256 (hex) of the consent cookie
     * the browser brought back; required to complete.
     */
    request: {
      code?: string;
      providerId: string;
      state?: string;
      iss?: string;
      browserBinding?: string;
      error?: string;
    };
    reply: (
      | { ok: true; authorizationId: string; providerId: string; clientState: string | null }
      | { ok: false; error: string; clientState: string | null }
    ) & {
      /** Present when the consent came from a hosted OAuth setup: where to send the browser next. */
      setup?: BrowserSetupResult;
    };
  };
  'authorizations.list': { request: Record<string, never>; reply: { data: AuthorizedProvider[] } };
  'authorizations.delete': { request: { id: string }; reply: { revoked: boolean; revocationError?: string } };
  'authorizations.token': {
    request: { id: string; minValiditySeconds?: number };
    reply: AccessTokenResponse;
  };
  'authorizations.userinfo': { request: { id: string }; reply: OAuthUserResponse };
  'tokens.acquire': { request: AcquireTokenRequest; reply: AcquiredToken };
  /** Seed 001 external auth: the caller's links, one provider as the caller sees it, unlink, device flow. */
  'external-auth.list': { request: Record<string, never>; reply: ListUserExternalAuthResponse };
  'external-auth.get': { request: { providerId: string }; reply: ExternalAuth };
  'external-auth.delete': { request: { providerId: string }; reply: DeleteExternalAuthResponse };
  'external-auth.device-start': { request: { providerId: string }; reply: ExternalAuthDevice };
  'external-auth.device-exchange': {
    request: { providerId: string; deviceCode: string };
    reply: DeviceExchangeResult;
  };
  'identity.token': { request: TokenRequest; reply: TokenResult };
  'identity.jwks': { request: Record<string, never>; reply: JsonWebKeySet };
  'identity.userinfo': { request: Record<string, never>; reply: UserInfoResponse };
  'identity.principal-token': { request: Record<string, never>; reply: TokenResponse };
  'identity.delegated-token': { request: DelegatedTokenRequest; reply: TokenResponse };
  'identity.authorize': { request: AuthorizeRequest; reply: AuthorizeResult };
  'identity.authorize-complete': {
    request: CompleteAuthorizationRequest;
    reply: CompleteAuthorizationResult;
  };
  /** The live revocations (no caller token: the list names nothing; `version` = what the caller holds). */
  'identity.revocations': { request: { version?: string }; reply: RevocationSnapshot };
  /** RFC 7009 and RFC 7662 for the broker's own tokens (client authentication in the request). */
  'identity.revoke': { request: TokenRevocationRequest; reply: RevocationResult };
  'identity.introspect': { request: TokenIntrospectionRequest; reply: IntrospectionResult };
  /** The operator's actions on their own org (scope `identity:admin`). */
  'identity.admin-client': {
    request: { clientId: string; action: AdminAction };
    reply: { client_id: string; disabled: boolean; deleted: boolean };
  };
  'identity.admin-user': {
    request: { sub: string; action: AdminAction };
    reply: { sub: string; disabled: boolean; deleted: boolean; unlinked?: number };
  };
  'identity.admin-revoke': { request: AdminRevokeRequest; reply: AdminRevokeResult };
  /** The hosted consent start page: what a pending consent connects (no caller token: the state is the proof). */
  'authorizations.consent-page': { request: { state: string }; reply: ConsentPage };
  /** Binds a pending consent to the browser that confirmed it; answers the provider's authorization URL. */
  'authorizations.consent-bind': {
    request: { state: string; bindingHash: string };
    reply: { redirectUrl: string };
  };
  /** Seed 002 OAuth setups of one deployment (a provider of the caller's org). */
  'oauth-setups.list': {
    request: { deploymentId: string; query: ListOAuthSetupsQuery };
    reply: Page<OAuthSetup>;
  };
  'oauth-setups.get': { request: { deploymentId: string; id: string }; reply: OAuthSetup };
  'oauth-setups.create': {
    request: { deploymentId: string; body: CreateOAuthSetupRequest };
    reply: OAuthSetup;
  };
  'oauth-setups.update': {
    request: { deploymentId: string; id: string; changes: UpdateOAuthSetupRequest };
    reply: OAuthSetup;
  };
  /** A browser opened a hosted setup link (no caller token: the link is the proof); marks it opened. */
  'oauth-setups.open': { request: { linkToken: string }; reply: OpenedSetup };
  /** Internal (token-broker → registry, scope `setups:finish`): how the setup's consent ended. */
  'oauth-setups.finish': {
    request: { setupId: string; result: SetupOutcome };
    reply: { setupId: string; status: string; redirectUrl: string | null };
  };
  /** The hosted setup page: opens the link and starts its consent (the same consent flow as /connect/start). */
  'authorizations.setup-consent': {
    request: { linkToken: string };
    reply: { flow: string; consent: ConsentPage; setup: SetupPageInfo };
  };
  /** The org's webhook endpoints and their delivery log. */
  'webhooks.list': { request: Record<string, never>; reply: { items: WebhookEndpoint[] } };
  'webhooks.get': { request: { id: string }; reply: WebhookEndpoint };
  'webhooks.create': { request: CreateWebhookEndpointRequest; reply: CreatedWebhookEndpoint };
  'webhooks.update': {
    request: { id: string; changes: UpdateWebhookEndpointRequest };
    reply: WebhookEndpoint;
  };
  'webhooks.delete': { request: { id: string }; reply: { deleted: true } };
  'webhooks.rotate-secret': { request: { id: string }; reply: CreatedWebhookEndpoint };
  'webhooks.deliveries': {
    request: { id: string; limit?: number; after?: string };
    reply: { items: WebhookDelivery[] };
  };
  /** Consumer policies of the caller's org (scope `identity:admin`). */
  'identity.token-grants.list': { request: { clientId?: string }; reply: { items: TokenGrant[] } };
  'identity.token-grants.create': { request: { clientId: string; grant: NewTokenGrant }; reply: TokenGrant };
  'identity.token-grants.delete': { request: { id: string }; reply: { deleted: true } };
  /** The provenance ledger of the caller's org (scope `identity:admin`). */
  'tokens.ledger.search': { request: LedgerQuery; reply: LedgerPage };
  'tokens.ledger.lookup': { request: LedgerLookup; reply: { items: LedgerEntry[] } };
  /** Fire-and-forget (no reply): the gateway's cache hits, each vouched for by the broker's ledger ticket. */
  'tokens.ledger.hits': { request: LedgerHits; reply: null };
  /** RFC 8693 token exchange at the token endpoint (client authentication in the request, like `identity.token`). */
  'tokens.exchange': { request: TokenExchangeRequest; reply: TokenExchangeResult };
  /** Blast-radius revocation of the caller's org (scope `identity:admin`): started, then read. */
  'tokens.revocation-jobs.start': { request: StartRevocationJob; reply: RevocationJob };
  'tokens.revocation-jobs.get': { request: { id: string }; reply: RevocationJob };
  /** Whether the caller's org accepts clients identified by URL (scope `identity:admin`). */
  'identity.client-metadata-settings.get': {
    request: Record<string, never>;
    reply: ClientMetadataDocumentSettings;
  };
  'identity.client-metadata-settings.set': {
    request: ClientMetadataDocumentSettings;
    reply: ClientMetadataDocumentSettings;
  };
  /** What the authorization server supports (for its public metadata document: no caller token). */
  'identity.server-features': { request: Record<string, never>; reply: AuthorizationServerFeatures };
}

/** Where a hosted setup's browser goes after the provider: the setup, its outcome and the app's redirect URL. */
export interface BrowserSetupResult {
  id: string;
  status: string;
  redirectUrl: string | null;
}

export type BusPattern = keyof BusContract;
export type BusRequest<P extends BusPattern> = BusContract[P]['request'];
export type BusReply<P extends BusPattern> = BusContract[P]['reply'];
