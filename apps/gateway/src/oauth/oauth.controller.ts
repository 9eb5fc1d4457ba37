import { Body, Controller, Get, Headers, HttpCode, Inject, Ip, Post, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BusClientProxy } from '@broker/bus';
import {
  GRANT_TYPES,
  JsonWebKeySet,
  OAuthErrorResponse,
  SCOPES,
  TOKEN_EXCHANGE_GRANT,
  TokenExchangeResponse,
  TokenIntrospection,
  TokenResponse,
} from '@broker/contracts';
import { SIGNING_ALG } from '@broker/auth-kit';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { OAuthErrorFilter } from './oauth-error.filter';
import { RateLimitedError, TokenRateLimiter } from './token-rate-limiter';
import {
  isTokenExchange,
  parseTokenExchangeRequest,
  parseTokenRequest,
  parseTokenStatusRequest,
} from './token-request';
import { toTokenEndpointResponse } from './token-response';

type OAuthErrorBody = { error: string; error_description: string };

/** The broker's own OAuth endpoints (seed 003) and its discovery documents. */
@Controller()
@UseFilters(OAuthErrorFilter)
export class OAuthController {
  constructor(
    private readonly bus: BusClientProxy,
    private readonly limiter: TokenRateLimiter,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Post('api/v1/oauth/token')
  @HttpCode(200)
  async token(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<TokenResponse | TokenExchangeResponse | OAuthErrorBody> {
    res.header('Pragma', 'no-cache');
    if (isTokenExchange(body)) return this.exchange(body, authorization, ip, res);
    const request = parseTokenRequest(body, authorization);
    const clientId = request.basic?.clientId ?? request.client_id;
    const limited = await this.limit(ip, clientId, res);
    if (limited) return limited;
    const result = await this.bus.request('identity.token', request);
    await this.account(ip, clientId, result.ok ? undefined : result.error);
    if (result.ok) return toTokenEndpointResponse(result.token);
    return this.oauthError(res, result.error);
  }

  /** RFC 8693 token exchange: a user's broker token for that user's provider token, within the client's policy. */
  private async exchange(
    body: unknown,
    authorization: string | undefined,
    ip: string,
    res: FastifyReply,
  ): Promise<TokenExchangeResponse | OAuthErrorBody> {
    const request = parseTokenExchangeRequest(body, authorization);
    const clientId = request.basic?.clientId ?? request.client_id;
    const limited = await this.limit(ip, clientId, res);
    if (limited) return limited;
    const result = await this.bus.request('tokens.exchange', request);
    await this.account(ip, clientId, result.ok ? undefined : result.error);
    // A provider token must not be cached anywhere on the way (RFC 6749 §5.1).
    res.header('Cache-Control', 'no-store');
    return result.ok ? result.token : this.oauthError(res, result.error);
  }

  /** RFC 7009: revokes one of the caller's own tokens (a refresh token: its whole family). 200 with no body, also for an unknown token. */
  @Post('api/v1/oauth/revoke')
  @HttpCode(200)
  async revoke(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<OAuthErrorBody | undefined> {
    const request = parseTokenStatusRequest(body, authorization);
    const clientId = request.basic?.clientId ?? request.client_id;
    const limited = await this.limit(ip, clientId, res);
    if (limited) return limited;
    const result = await this.bus.request('identity.revoke', request);
    await this.account(ip, clientId, result.ok ? undefined : result.error);
    return result.ok ? undefined : this.oauthError(res, result.error);
  }

  /** RFC 7662: whether a token of the caller's org is active, and what it grants. */
  @Post('api/v1/oauth/introspect')
  @HttpCode(200)
  async introspect(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<TokenIntrospection | OAuthErrorBody> {
    const request = parseTokenStatusRequest(body, authorization);
    const clientId = request.basic?.clientId ?? request.client_id;
    const limited = await this.limit(ip, clientId, res);
    if (limited) return limited;
    const result = await this.bus.request('identity.introspect', request);
    await this.account(ip, clientId, result.ok ? undefined : result.error);
    return result.ok ? result.introspection : this.oauthError(res, result.error);
  }

  /** 429 with Retry-After when the address (or the address for this client) is over its limit. */
  private async limit(
    ip: string,
    clientId: string | undefined,
    res: FastifyReply,
  ): Promise<OAuthErrorBody | undefined> {
    try {
      await this.limiter.consume(ip, clientId);
      return undefined;
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      res.status(429).header('Retry-After', String(err.retryAfterSeconds));
      return {
        error: 'too_many_requests',
        error_description: `too many requests; retry in ${err.retryAfterSeconds} s`,
      };
    }
  }

  /**
   * Failed client authentications back off per (address, client); only a success clears them
   * (other errors may be decided before the secret is checked).
   */
  private async account(
    ip: string,
    clientId: string | undefined,
    error: OAuthErrorResponse | undefined,
  ): Promise<void> {
    if (error?.error === 'invalid_client') await this.limiter.failed(ip, clientId);
    else if (!error) await this.limiter.succeeded(ip, clientId);
  }

  private oauthError(res: FastifyReply, error: OAuthErrorResponse): OAuthErrorBody {
    res.status(error.status);
    if (error.status === 401) res.header('WWW-Authenticate', 'Basic realm="oauth-broker"');
    return { error: error.error, error_description: error.error_description };
  }

  @Get('.well-known/jwks.json')
  async jwks(@Res({ passthrough: true }) res: FastifyReply): Promise<JsonWebKeySet> {
    res.header('Cache-Control', 'public, max-age=300');
    return this.bus.request('identity.jwks', {});
  }

  /** RFC 8414 metadata; the same document serves OIDC discovery (first-party apps get ID tokens). */
  @Get(['.well-known/oauth-authorization-server', '.well-known/openid-configuration'])
  async metadata(@Res({ passthrough: true }) res: FastifyReply): Promise<Record<string, unknown>> {
    const base = this.config.publicUrl;
    // Clients identified by URL are accepted once some org turns them on (they authenticate with `none` + PKCE).
    let cimd = false;
    try {
      cimd = (await this.bus.request('identity.server-features', {}, { timeoutMs: 2_000 }))
        .clientIdMetadataDocuments;
      res.header('Cache-Control', 'public, max-age=300');
    } catch {
      // The document stays usable without the optional feature; it is just not cached.
      res.header('Cache-Control', 'no-store');
    }
    return {
      issuer: base,
      authorization_endpoint: `${base}/api/v1/oauth/authorize`,
      token_endpoint: `${base}/api/v1/oauth/token`,
      revocation_endpoint: `${base}/api/v1/oauth/revoke`,
      introspection_endpoint: `${base}/api/v1/oauth/introspect`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      userinfo_endpoint: `${base}/api/v1/oauth/userinfo`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: [...GRANT_TYPES, TOKEN_EXCHANGE_GRANT],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: cimd
        ? ['client_secret_basic', 'client_secret_post', 'none']
        : ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['openid', ...SCOPES],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [SIGNING_ALG],
      authorization_response_iss_parameter_supported: true,
      ...(cimd ? { client_id_metadata_document_supported: true } : {}),
    };
  }
}
