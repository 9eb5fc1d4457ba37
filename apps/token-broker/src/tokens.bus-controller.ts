import { Controller, Logger, UseFilters, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns, Principal } from '@broker/contracts';
import { BusAuthGuard, RequireScopes, textField } from '@broker/identity';
import { AuthorizedProvidersService, ConsentBrowserMismatchError, ConsentService, TokenPath, TokensError } from '@broker/tokens';
import { TokensErrorFilter } from './tokens-error.filter';

/** The browser's return from the provider: no caller token; the single-use state binds it to the user who started. */
@Controller()
@UseFilters(TokensErrorFilter)
export class BrowserCallbackBusController {
  private readonly logger = new Logger('BrowserCallback');
  constructor(private readonly consent: ConsentService) {}

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
      // started it learns the app's state back.
      const binding = req.state === undefined ? null : await this.consent.abandon(req.state, req.browserBinding);
      return { ok: false, error: binding === 'mismatch' ? 'browser_mismatch' : 'invalid_request', clientState: binding === 'mismatch' ? null : binding };
    }
    try {
      const done = await this.consent.complete(null, { ...req, state: req.state, code: req.code, providerId: req.providerId });
      return { ok: true, authorizationId: done.authorizedProvider.id, providerId: done.authorizedProvider.provider.id, clientState: done.clientState };
    } catch (err) {
      if (err instanceof ConsentBrowserMismatchError) {
        this.logger.warn('browser callback refused: the browser did not start this consent');
        return { ok: false, error: 'browser_mismatch', clientState: null };
      }
      if (err instanceof TokensError) {
        this.logger.warn(`browser callback refused: ${err.message}`);
        return { ok: false, error: err.code === 'UNAVAILABLE' ? 'temporarily_unavailable' : 'invalid_request', clientState: null };
      }
      throw err;
    }
  }
}

const isServiceAccount = (p: Principal) => p.sub === p.clientId && !p.act;

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
    private readonly tokens: TokenPath,
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

  @MessagePattern(MessagePatterns.authorizations.token)
  @RequireScopes('tokens:read')
  token(@Payload() req: BusRequest<'authorizations.token'>, @Ctx() ctx: BusContext): Promise<BusReply<'authorizations.token'>> {
    const p = ctx.getPrincipal();
    return this.authorized.token(p.orgId, p.sub, String(req?.id ?? ''), req?.minValiditySeconds);
  }

  @MessagePattern(MessagePatterns.authorizations.userinfo)
  @RequireScopes('authorizations:read')
  userinfo(@Payload() req: BusRequest<'authorizations.userinfo'>, @Ctx() ctx: BusContext): Promise<BusReply<'authorizations.userinfo'>> {
    const p = ctx.getPrincipal();
    return this.authorized.userinfo(p.orgId, p.sub, String(req?.id ?? ''));
  }

  /** The internal services' path: by authorization id, or by user + provider. */
  @MessagePattern(MessagePatterns.tokens.acquire)
  @RequireScopes('tokens:read')
  async acquire(@Payload() req: BusRequest<'tokens.acquire'>, @Ctx() ctx: BusContext): Promise<BusReply<'tokens.acquire'>> {
    const p = ctx.getPrincipal();
    const min = typeof req?.minValiditySeconds === 'number' && req.minValiditySeconds >= 0 ? Math.min(req.minValiditySeconds, 86_400) : undefined;
    let authorizationId = req?.authorizationId;
    if (!authorizationId) {
      if (!req?.userId || !req?.providerId) throw new BusException('UNPROCESSABLE', 'give authorizationId, or userId and providerId');
      const own = isServiceAccount(p) || req.userId === p.sub;
      if (!own) throw new BusException('NOT_FOUND', 'authorization not found');
      authorizationId = await this.authorized.findId(p.orgId, req.userId, req.providerId);
    }
    // A user may only use their own authorizations (checked by the token path, from its memory when hot).
    const served = await this.tokens.acquire(p.orgId, authorizationId, min, undefined, isServiceAccount(p) ? undefined : p.sub);
    return {
      accessToken: served.accessToken,
      tokenType: served.tokenType,
      ...(served.expiresAt ? { expiresAt: served.expiresAt.toISOString() } : {}),
      authorizationId: served.authorizationId,
      providerId: served.providerId,
      userId: served.userId,
      scopes: served.scopes,
    };
  }
}
