import type { CreateProviderRequest, JobLocation, ListProvidersQuery, OAuthProvider, OAuthProviderJob, ProviderList, UpdateProviderRequest } from './providers';
import type { ServiceName } from './services';
import type { AccessTokenResponse, AcquireTokenRequest, AcquiredToken, AuthorizedProvider, AuthorizeProviderResponse, OAuthUser, ProviderCallbackRequest, ProviderCallbackResponse } from './tokens';
import type { InternalProviderCredentials } from './providers';
import type { DeleteExternalAuthResponse, DeviceExchangeResult, ExternalAuth, ExternalAuthDevice, ExternalAuthLink } from './external-auth';
import type { AuthorizeRequest, AuthorizeResult, CompleteAuthorizationRequest, CompleteAuthorizationResult, DelegatedTokenRequest, JsonWebKeySet, TokenRequest, TokenResponse, TokenResult, UserInfoResponse } from './oauth-server';

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
  'authorizations.authorize': { request: { providerId: string; state?: string; redirectUri?: string }; reply: AuthorizeProviderResponse };
  'authorizations.callback': { request: ProviderCallbackRequest; reply: ProviderCallbackResponse };
  /** The browser callback: no caller token, the single-use state is the proof (like `identity.authorize-complete`). */
  'authorizations.browser-callback': {
    /** As the browser brought it: a provider that reported an error sends no code (possibly no state). */
    request: { code?: string; providerId: string; state?: string; iss?: string };
    reply: { ok: true; authorizationId: string; providerId: string; clientState: string | null } | { ok: false; error: string; clientState: string | null };
  };
  'authorizations.list': { request: Record<string, never>; reply: { data: AuthorizedProvider[] } };
  'authorizations.delete': { request: { id: string }; reply: { revoked: boolean; revocationError?: string } };
  'authorizations.token': { request: { id: string; minValiditySeconds?: number }; reply: AccessTokenResponse };
  'authorizations.userinfo': { request: { id: string }; reply: OAuthUser };
  'tokens.acquire': { request: AcquireTokenRequest; reply: AcquiredToken };
  /** Seed 001 external auth: the caller's links, one provider as the caller sees it, unlink, device flow. */
  'external-auth.list': { request: Record<string, never>; reply: ExternalAuthLink[] };
  'external-auth.get': { request: { providerId: string }; reply: ExternalAuth };
  'external-auth.delete': { request: { providerId: string }; reply: DeleteExternalAuthResponse };
  'external-auth.device-start': { request: { providerId: string }; reply: ExternalAuthDevice };
  'external-auth.device-exchange': { request: { providerId: string; deviceCode: string }; reply: DeviceExchangeResult };
  'identity.token': { request: TokenRequest; reply: TokenResult };
  'identity.jwks': { request: Record<string, never>; reply: JsonWebKeySet };
  'identity.userinfo': { request: Record<string, never>; reply: UserInfoResponse };
  'identity.principal-token': { request: Record<string, never>; reply: TokenResponse };
  'identity.delegated-token': { request: DelegatedTokenRequest; reply: TokenResponse };
  'identity.authorize': { request: AuthorizeRequest; reply: AuthorizeResult };
  'identity.authorize-complete': { request: CompleteAuthorizationRequest; reply: CompleteAuthorizationResult };
}


export type BusPattern = keyof BusContract;
export type BusRequest<P extends BusPattern> = BusContract[P]['request'];
export type BusReply<P extends BusPattern> = BusContract[P]['reply'];

/** The service whose request queue receives each pattern (total: a new pattern must name its owner). */
export const BUS_PATTERN_OWNERS: Record<BusPattern, ServiceName> = {
  'providers.list': 'provider-registry',
  'providers.get': 'provider-registry',
  'providers.create': 'provider-registry',
  'providers.update': 'provider-registry',
  'providers.delete': 'provider-registry',
  'jobs.get': 'provider-registry',
  'jobs.create': 'provider-registry',
  'providers.credentials': 'provider-registry',
  'authorizations.authorize': 'token-broker',
  'authorizations.callback': 'token-broker',
  'authorizations.browser-callback': 'token-broker',
  'authorizations.list': 'token-broker',
  'authorizations.delete': 'token-broker',
  'authorizations.token': 'token-broker',
  'authorizations.userinfo': 'token-broker',
  'tokens.acquire': 'token-broker',
  'external-auth.list': 'token-broker',
  'external-auth.get': 'token-broker',
  'external-auth.delete': 'token-broker',
  'external-auth.device-start': 'token-broker',
  'external-auth.device-exchange': 'token-broker',
  'identity.token': 'token-broker',
  'identity.jwks': 'token-broker',
  'identity.userinfo': 'token-broker',
  'identity.principal-token': 'token-broker',
  'identity.delegated-token': 'token-broker',
  'identity.authorize': 'token-broker',
  'identity.authorize-complete': 'token-broker',
};

/** Pattern constants for `@MessagePattern(...)` so handlers and callers cannot drift apart. */
export const MessagePatterns = {
  providers: { list: 'providers.list', get: 'providers.get', create: 'providers.create', update: 'providers.update', delete: 'providers.delete' },
  jobs: { get: 'jobs.get', create: 'jobs.create' },
  providerCredentials: { get: 'providers.credentials' },
  authorizations: {
    authorize: 'authorizations.authorize',
    callback: 'authorizations.callback',
    browserCallback: 'authorizations.browser-callback',
    list: 'authorizations.list',
    delete: 'authorizations.delete',
    token: 'authorizations.token',
    userinfo: 'authorizations.userinfo',
  },
  tokens: { acquire: 'tokens.acquire' },
  externalAuth: {
    list: 'external-auth.list',
    get: 'external-auth.get',
    delete: 'external-auth.delete',
    deviceStart: 'external-auth.device-start',
    deviceExchange: 'external-auth.device-exchange',
  },
  identity: {
    token: 'identity.token',
    jwks: 'identity.jwks',
    userinfo: 'identity.userinfo',
    principalToken: 'identity.principal-token',
    delegatedToken: 'identity.delegated-token',
    authorize: 'identity.authorize',
    authorizeComplete: 'identity.authorize-complete',
  },
} as const satisfies Record<string, Record<string, BusPattern>>;
