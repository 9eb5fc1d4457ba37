import { Body, Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BusClientProxy } from '@broker/bus';
import type { AuthorizeRequest } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { OAuthErrorFilter } from './oauth-error.filter';
import { UpstreamLoginService } from './upstream-login';
import { confirmedByThisBrowser, sendClientConsent } from './client-consent';

const AUTHORIZE_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'resource',
] as const;

/**
 * `GET /api/v1/oauth/authorize` for first-party apps: the identity service checks the request, the
 * person signs in at the upstream identity provider, and the browser returns to the app's exact
 * redirect URI with `code`, `state` and `iss` (RFC 9207). Errors go back to the app only once its
 * client id and redirect URI are verified; otherwise the browser is not redirected.
 */
@Controller('api/v1/oauth')
@UseFilters(OAuthErrorFilter)
export class AuthorizeController {
  constructor(
    private readonly bus: BusClientProxy,
    private readonly upstream: UpstreamLoginService,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get('authorize')
  async authorize(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    noStore(res);
    const authorization = authorizeRequest(req.query as Record<string, unknown>);
    const checked = await this.bus.request('identity.authorize', authorization);
    if (!checked.ok) return this.fail(res, authorization, checked);
    if (!this.upstream.configured) {
      return this.fail(res, authorization, {
        error: 'temporarily_unavailable',
        error_description: 'sign-in is not configured',
        redirectUri: authorization.redirect_uri,
      });
    }
    if (checked.metadataDocument) {
      // A client identified by URL: the person first sees who is asking (in its own, unverified words).
      sendClientConsent(res, {
        publicUrl: this.config.publicUrl,
        upstreamOrigin: this.upstreamOrigin(),
        authorization,
        client: checked.metadataDocument,
      });
      return;
    }
    await this.upstream.start(req, res, authorization);
  }

  /**
   * The person's answer on the confirmation page of a client identified by URL. Only the browser
   * that was shown the page can answer (its cookie); the request is checked again, and then the
   * person signs in upstream, or the client gets `access_denied`.
   */
  @Post('authorize/confirm')
  async confirm(@Body() body: unknown, @Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    noStore(res);
    const form = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    if (!confirmedByThisBrowser(req, res, this.config.publicUrl, form['confirmation'])) {
      res.status(400).send({
        error: 'invalid_request',
        error_description:
          'this confirmation does not come from the page this browser was shown: start again from the application',
      });
      return;
    }
    const authorization = authorizeRequest(form);
    const checked = await this.bus.request('identity.authorize', authorization);
    if (!checked.ok) return this.fail(res, authorization, checked);
    if (form['decision'] !== 'allow') {
      return this.fail(res, authorization, {
        error: 'access_denied',
        error_description: 'the person declined',
        redirectUri: authorization.redirect_uri,
      });
    }
    if (!this.upstream.configured) {
      return this.fail(res, authorization, {
        error: 'temporarily_unavailable',
        error_description: 'sign-in is not configured',
        redirectUri: authorization.redirect_uri,
      });
    }
    await this.upstream.start(req, res, authorization);
  }

  private upstreamOrigin(): string | undefined {
    const url = this.config.upstreamLogin?.authorizationUrl;
    return url ? new URL(url).origin : undefined;
  }

  @Get('upstream/callback')
  async upstreamCallback(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    noStore(res);
    // The upstream code is in this URL: keep it out of Referer headers of whatever comes next.
    res.header('Referrer-Policy', 'no-referrer');
    const outcome = await this.upstream.callback(req, res);
    if (outcome.kind === 'unknown-login') {
      res.status(400).send({
        error: 'invalid_request',
        error_description:
          'this sign-in is unknown, already used or expired: start again from the application',
      });
      return;
    }
    const { authorization } = outcome;
    if (outcome.kind === 'failed') {
      const denied = outcome.reason === 'access_denied';
      return this.fail(res, authorization, {
        error: denied ? 'access_denied' : 'temporarily_unavailable',
        error_description: denied
          ? 'the sign-in was cancelled or refused'
          : 'the identity provider could not complete the sign-in',
        redirectUri: authorization.redirect_uri,
      });
    }
    const completed = await this.bus.request('identity.authorize-complete', {
      authorization,
      upstreamAccessToken: outcome.login.accessToken,
    });
    if (!completed.ok) return this.fail(res, authorization, completed);
    this.redirect(res, completed.redirectUri, { code: completed.code, state: authorization.state });
  }

  /** Sends an error to the app's verified redirect URI, or answers 400 without redirecting. */
  private fail(
    res: FastifyReply,
    authorization: AuthorizeRequest,
    error: { error: string; error_description: string; redirectUri?: string },
  ): void {
    if (error.redirectUri) {
      this.redirect(res, error.redirectUri, {
        error: error.error,
        error_description: error.error_description,
        state: authorization.state,
      });
      return;
    }
    res.status(400).send({ error: error.error, error_description: error.error_description });
  }

  private redirect(res: FastifyReply, redirectUri: string, params: Record<string, string | undefined>): void {
    const target = new URL(redirectUri);
    for (const [name, value] of Object.entries(params))
      if (value !== undefined) target.searchParams.set(name, value);
    target.searchParams.set('iss', this.config.publicUrl);
    res.redirect(target.toString(), 302);
  }
}

function noStore(res: FastifyReply): void {
  res.header('Cache-Control', 'no-store');
  res.header('Pragma', 'no-cache');
}

/** The authorization parameters as strings; a parameter sent twice is recorded, not guessed at. */
function authorizeRequest(query: Record<string, unknown>): AuthorizeRequest {
  const request: AuthorizeRequest = {};
  const duplicated: string[] = [];
  for (const name of AUTHORIZE_PARAMS) {
    const value = query[name];
    if (typeof value === 'string') request[name] = value;
    else if (value !== undefined) duplicated.push(name);
  }
  if (duplicated.length) request.duplicated = duplicated;
  return request;
}
