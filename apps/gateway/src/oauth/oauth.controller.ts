import { Body, Controller, Get, Headers, HttpCode, Inject, Ip, Post, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { BusClientProxy } from '@broker/bus';
import { GRANT_TYPES, JsonWebKeySet, SCOPES, TokenResponse } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { OAuthErrorFilter } from './oauth-error.filter';
import { RateLimitedError, TokenRateLimiter } from './token-rate-limiter';
import { parseTokenRequest } from './token-request';

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
    if (result.ok) return result.token;
    res.status(result.error.status);
    if (result.error.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="oauth-broker"');
    return { error: result.error.error, error_description: result.error.error_description };
  }

  @Get('.well-known/jwks.json')
  async jwks(@Res({ passthrough: true }) res: Response): Promise<JsonWebKeySet> {
    res.setHeader('Cache-Control', 'public, max-age=300');
    return this.bus.request('identity.jwks', {});
  }

  @Get('.well-known/oauth-authorization-server')
  metadata(): Record<string, unknown> {
    const base = this.config.publicUrl;
    return {
      issuer: base,
      token_endpoint: `${base}/api/v1/oauth/token`,
      jwks_uri: `${base}/.well-known/jwks.json`,
      grant_types_supported: GRANT_TYPES.filter((g) => g === 'client_credentials'),
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: [...SCOPES],
      response_types_supported: [],
    };
  }
}
