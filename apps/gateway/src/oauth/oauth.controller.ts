import { Body, Controller, Get, Headers, HttpCode, Inject, Ip, Post, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { BusClientProxy } from '@broker/bus';
import { GRANT_TYPES, JsonWebKeySet, SCOPES, TokenResponse } from '@broker/contracts';
import { SIGNING_ALG } from '@broker/identity';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { OAuthErrorFilter } from './oauth-error.filter';
import { RateLimitedError, TokenRateLimiter } from './token-rate-limiter';
import { parseTokenRequest } from './token-request';
import { toTokenEndpointResponse } from './token-response';

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
    @Res({ passthrough: true }) res: Response,
  ): Promise<TokenResponse | { error: string; error_description: string }> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    const request = parseTokenRequest(body, authorization);
    try {
      await this.limiter.consume(ip, request.basic?.clientId ?? request.client_id);
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      res.status(429).setHeader('Retry-After', String(err.retryAfterSeconds));
      return { error: 'too_many_requests', error_description: `too many token requests; retry in ${err.retryAfterSeconds} s` };
    }
    const result = await this.bus.request('identity.token', request);
    if (result.ok) return toTokenEndpointResponse(result.token);
    res.status(result.error.status);
    if (result.error.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="oauth-broker"');
    return { error: result.error.error, error_description: result.error.error_description };
  }

  @Get('.well-known/jwks.json')
  async jwks(@Res({ passthrough: true }) res: Response): Promise<JsonWebKeySet> {
    res.setHeader('Cache-Control', 'public, max-age=300');
    return this.bus.request('identity.jwks', {});
  }

  /** RFC 8414 metadata; the same document serves OIDC discovery (first-party apps get ID tokens). */
  @Get(['.well-known/oauth-authorization-server', '.well-known/openid-configuration'])
  metadata(@Res({ passthrough: true }) res: Response): Record<string, unknown> {
    res.setHeader('Cache-Control', 'public, max-age=300');
    const base = this.config.publicUrl;
    return {
      issuer: base,
      authorization_endpoint: `${base}/api/v1/oauth/authorize`,
      token_endpoint: `${base}/api/v1/oauth/token`,
      userinfo_endpoint: `${base}/api/v1/oauth/userinfo`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: [...GRANT_TYPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: ['openid', ...SCOPES],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [SIGNING_ALG],
      authorization_response_iss_parameter_supported: true,
    };
  }
}
