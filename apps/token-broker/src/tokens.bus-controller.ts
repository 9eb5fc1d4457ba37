import { Controller, Logger, UseFilters, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns, tokenRestrictionSchema } from '@broker/contracts';
import { BusAuthGuard, RequireScopes, textField } from '@broker/identity';
import { AuthorizedProvidersService, ConsentBrowserMismatchError, ConsentService, ConsumerTokens, TokensError } from '@broker/tokens';
import { consumerOf, ownerOf } from './consumer';
import { SetupOutcomeReporter } from './setup-outcomes';
import { TokensErrorFilter } from './tokens-error.filter';

/** The browser's return from the provider: no caller token; the single-use state binds it to the user who started. */
@Controller()
@UseFilters(TokensErrorFilter)
export class BrowserCallbackBusController {
  private readonly logger = new Logger('BrowserCallback');
  constructor(
    private readonly consent: ConsentService,
    private readonly setups: SetupOutcomeReporter,
  ) {}

  @MessagePattern(MessagePatterns.authorizations.browserCallback)
  async callback(@Payload() raw: unknown): Promise<BusReply<'authorizations.browser-callback'>> {
    const req = {
      state: textField(raw, 'state'),
      code: textField(raw, 'code'),
      providerId: textField(raw, 'providerId'),
      iss: textField(raw, 'iss'),
      browserBinding: textField(raw, 'browserBinding'),
    };
    if (req.state === undefined || req.code === undefined || req.providerId === undefined) {
      // The provider reported an error (no code): the attempt ends, and only the browser that
      // started it learns the app's state back (and ends the setup it came from).
      if (req.state === undefined) return { ok: false, error: 'invalid_request', clientState: null };
      const ended = await this.consent.end(req.state, req.browserBinding);
      if (ended.mismatch) return { ok: false, error: 'browser_mismatch', clientState: null };
      const error = providerError(raw);
      const setup = ended.setup ? await this.setups.report(ended.setup.orgId, ended.setup.setupId, { outcome: 'failed', error }) : undefined;
      return { ok: false, error: error === 'access_denied' ? 'access_denied' : 'invalid_request', clientState: ended.clientState, ...(setup ? { setup } : {}) };
    }
    // Which setup (if any) this consent came from, read before the state is spent.
    const pendingSetup = await this.consent.setupOf(req.state);
    try {
      const done = await this.consent.complete(null, { ...req, state: req.state, code: req.code, providerId: req.providerId });
      const setup = done.setupId
        ? await this.setups.report(done.authorizedProvider.orgId, done.setupId, { outcome: 'completed', authorizationId: done.authorizedProvider.id })
        : undefined;
      return { ok: true, authorizationId: done.authorizedProvider.id, providerId: done.authorizedProvider.provider.id, clientState: done.clientState, ...(setup ? { setup } : {}) };
    } catch (err) {
      if (err instanceof ConsentBrowserMismatchError) {
        this.logger.warn('browser callback refused: the browser did not start this consent');
        return { ok: false, error: 'browser_mismatch', clientState: null };
      }
      if (err instanceof TokensError) {
        this.logger.warn(`browser callback refused: ${err.message}`);
        const transient = err.code === 'UNAVAILABLE';
        // A provider that did not answer leaves the setup open for another try; a refused code ends it.
        const setup = pendingSetup
          ? transient
            ? { id: pendingSetup.setupId, status: 'opened', redirectUrl: null }
            : await this.setups.report(pendingSetup.orgId, pendingSetup.setupId, { outcome: 'failed', error: 'invalid_request' })
          : undefined;
        return { ok: false, error: transient ? 'temporarily_unavailable' : 'invalid_request', clientState: null, ...(setup ? { setup } : {}) };
      }
      throw err;
    }
  }
}

/** The provider's `error` of a refused consent as the gateway passed it on (a short token), else a generic one. */
function providerError(raw: unknown): string {
  const error = textField(raw, 'error');
  return error && /^[a-z_]{1,64}$/.test(error) ? error : 'access_denied';
}

/**
 * Consent, authorized providers and tokens. A user sees only their own authorizations; a service
 * account (client_credentials) may acquire tokens of any user of its org, never of another org.
 */
@Controller()
@UseGuards(BusAuthGuard)
@UseFilters(TokensErrorFilter)
export class TokensBusController {
  constructor(
    private readonly consent: ConsentService,
    private readonly authorized: AuthorizedProvidersService,
    private readonly consumers: ConsumerTokens,
  ) {}

  @MessagePattern(MessagePatterns.authorizations.authorize)
  @RequireScopes('authorizations:write')
  authorize(@Payload() req: BusRequest<'authorizations.authorize'>, @Ctx() ctx: BusContext): Promise<BusReply<'authorizations.authorize'>> {
    const p = ctx.getPrincipal();
    return this.consent.authorize(p.orgId, p.sub, String(req?.providerId ?? ''), req?.state, req?.redirectUri);
  }

  @MessagePattern(MessagePatterns.authorizations.callback)
  @RequireScopes('authorizations:write')
  async callback(@Payload() raw: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'authorizations.callback'>> {
    const p = ctx.getPrincipal();
    const [code, state, providerId, iss] = (['code', 'state', 'providerId', 'iss'] as const).map((name) => textField(raw, name));
    if (!code || !state || providerId === undefined) throw new BusException('UNPROCESSABLE', 'code, state and providerId are required', [{ name: 'body', message: 'code, state and providerId must be strings' }]);
    const done = await this.consent.complete({ orgId: p.orgId, userId: p.sub }, { code, state, providerId, iss });
    return { authorizedProvider: done.authorizedProvider, userInfo: done.userInfo };
  }

  @MessagePattern(MessagePatterns.authorizations.list)
  @RequireScopes('authorizations:read')
  async list(@Ctx() ctx: BusContext): Promise<BusReply<'authorizations.list'>> {
    const p = ctx.getPrincipal();
    return { data: await this.authorized.list(p.orgId, p.sub) };
  }

  @MessagePattern(MessagePatterns.authorizations.delete)
  @RequireScopes('authorizations:write')
  remove(@Payload() req: BusRequest<'authorizations.delete'>, @Ctx() ctx: BusContext): Promise<BusReply<'authorizations.delete'>> {
    const p = ctx.getPrincipal();
    return this.authorized.remove(p.orgId, p.sub, String(req?.id ?? ''));
  }

  /** Seed 000's REST token operation: the caller's own authorization, within its client's policy. */
  @MessagePattern(MessagePatterns.authorizations.token)
  @RequireScopes('tokens:read')
  async token(@Payload() req: BusRequest<'authorizations.token'>, @Ctx() ctx: BusContext): Promise<BusReply<'authorizations.token'>> {
    const p = ctx.getPrincipal();
    const id = String(req?.id ?? '');
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new TokensError('NOT_FOUND', 'Authorized provider not found.');
    const min = typeof req?.minValiditySeconds === 'number' ? req.minValiditySeconds : undefined;
    const served = await this.consumers.serve(consumerOf(p, 'rest'), { authorizationId: id }, { minValiditySeconds: min, ownedBy: p.sub }).catch((err: unknown) => {
      if (err instanceof TokensError && err.code === 'NOT_FOUND') throw new TokensError('NOT_FOUND', 'Authorized provider not found.');
      throw err;
    });
    return this.authorized.accessTokenResponse(p.orgId, served);
  }

  @MessagePattern(MessagePatterns.authorizations.userinfo)
  @RequireScopes('authorizations:read')
  userinfo(@Payload() req: BusRequest<'authorizations.userinfo'>, @Ctx() ctx: BusContext): Promise<BusReply<'authorizations.userinfo'>> {
    const p = ctx.getPrincipal();
    return this.authorized.userinfo(p.orgId, p.sub, String(req?.id ?? ''));
  }

  /**
   * The internal services' path: by authorization id, or by user + provider (+ account), within the
   * calling client's policy, optionally narrowed (`restriction`).
   */
  @MessagePattern(MessagePatterns.tokens.acquire)
  @RequireScopes('tokens:read')
  async acquire(@Payload() req: BusRequest<'tokens.acquire'>, @Ctx() ctx: BusContext): Promise<BusReply<'tokens.acquire'>> {
    const p = ctx.getPrincipal();
    const min = typeof req?.minValiditySeconds === 'number' && req.minValiditySeconds >= 0 ? Math.min(req.minValiditySeconds, 86_400) : undefined;
    if (!req?.authorizationId && (!req?.userId || !req?.providerId)) throw new BusException('UNPROCESSABLE', 'give authorizationId, or userId and providerId');
    const restriction = req.restriction === undefined ? undefined : tokenRestrictionSchema.safeParse(req.restriction);
    if (restriction && !restriction.success) {
      throw new BusException('UNPROCESSABLE', 'invalid restriction', restriction.error.issues.map((i) => ({ name: ['restriction', ...i.path].join('.'), message: i.message })));
    }
    const target = req.authorizationId
      ? { authorizationId: req.authorizationId }
      : { userId: req.userId, providerId: req.providerId, ...(typeof req.account === 'string' ? { account: req.account } : {}) };
    // A user may only use their own authorizations (checked by the token path, from its memory when hot).
    const served = await this.consumers.serve(consumerOf(p, req.channel === 'rest' ? 'rest' : 'bus'), target, {
      minValiditySeconds: min,
      ownedBy: ownerOf(p),
      restriction: restriction?.data,
    });
    return {
      accessToken: served.accessToken,
      tokenType: served.tokenType,
      ...(served.expiresAt ? { expiresAt: served.expiresAt.toISOString() } : {}),
      authorizationId: served.authorizationId,
      providerId: served.providerId,
      userId: served.userId,
      scopes: served.scopes,
      attenuated: served.attenuated,
      ...(served.unmet.length ? { unmet: served.unmet } : {}),
    };
  }
}
