import { Controller, Logger, UseFilters, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard, RequireScopes } from '@broker/auth-kit';
import {
  AuthorizedProvidersService,
  ConsentBrowserMismatchError,
  ConsentService,
  ConsumerTokens,
  TokensError,
} from '@broker/tokens';
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
  async callback(
    @Payload() req: BusRequest<'authorizations.browser-callback'>,
  ): Promise<BusReply<'authorizations.browser-callback'>> {
    // The payload pipe checked the types; a provider that reported an error sends no code (or no state).
    if (req.state === undefined || req.code === undefined) {
      // The attempt ends, and only the browser that started it learns the app's state back (and
      // ends the setup it came from).
      if (req.state === undefined) return { ok: false, error: 'invalid_request', clientState: null };
      const ended = await this.consent.end(req.state, req.browserBinding);
      if (ended.mismatch) return { ok: false, error: 'browser_mismatch', clientState: null };
      const error = providerError(req.error);
      const setup = ended.setup
        ? await this.setups.report(ended.setup.orgId, ended.setup.setupId, { outcome: 'failed', error })
        : undefined;
      return {
        ok: false,
        error: error === 'access_denied' ? 'access_denied' : 'invalid_request',
        clientState: ended.clientState,
        ...(setup ? { setup } : {}),
      };
    }
    // Which setup (if any) this consent came from, read before the state is spent.
    const pendingSetup = await this.consent.setupOf(req.state);
    try {
      const done = await this.consent.complete(null, {
        code: req.code,
        state: req.state,
        providerId: req.providerId,
        ...(req.iss !== undefined ? { iss: req.iss } : {}),
        ...(req.browserBinding !== undefined ? { browserBinding: req.browserBinding } : {}),
      });
      const setup = done.setupId
        ? await this.setups.report(done.authorizedProvider.orgId, done.setupId, {
            outcome: 'completed',
            authorizationId: done.authorizedProvider.id,
          })
        : undefined;
      return {
        ok: true,
        authorizationId: done.authorizedProvider.id,
        providerId: done.authorizedProvider.provider.id,
        clientState: done.clientState,
        ...(setup ? { setup } : {}),
      };
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
            : await this.setups.report(pendingSetup.orgId, pendingSetup.setupId, {
                outcome: 'failed',
                error: 'invalid_request',
              })
          : undefined;
        return {
          ok: false,
          error: transient ? 'temporarily_unavailable' : 'invalid_request',
          clientState: null,
          ...(setup ? { setup } : {}),
        };
      }
      throw err;
    }
  }
}

/** The provider's `error` of a refused consent as the gateway passed it on (a short token), else a generic one. */
function providerError(error: string | undefined): string {
  return error && /^[a-z_]{1,64}$/.test(error) ? error : 'access_denied';
}

/** Time kept back from a caller's deadline to send the answer (an error included) before it. */
const WORK_MARGIN_MS = 250;

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
  authorize(
    @Payload() req: BusRequest<'authorizations.authorize'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'authorizations.authorize'>> {
    const p = ctx.getPrincipal();
    return this.consent.authorize(p.orgId, p.sub, req.providerId, req.state, req.redirectUri);
  }

  @MessagePattern(MessagePatterns.authorizations.callback)
  @RequireScopes('authorizations:write')
  async callback(
    @Payload() req: BusRequest<'authorizations.callback'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'authorizations.callback'>> {
    const p = ctx.getPrincipal();
    // The payload pipe checked the types; an empty code or state cannot complete anything.
    if (!req.code || !req.state)
      throw new BusException('UNPROCESSABLE', 'code, state and providerId are required', [
        { name: 'body', message: 'code and state must not be empty' },
      ]);
    const done = await this.consent.complete({ orgId: p.orgId, userId: p.sub }, req);
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
  remove(
    @Payload() req: BusRequest<'authorizations.delete'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'authorizations.delete'>> {
    const p = ctx.getPrincipal();
    return this.authorized.remove(p.orgId, p.sub, req.id);
  }

  /** Seed 000's REST token operation: the caller's own authorization, within its client's policy. */
  @MessagePattern(MessagePatterns.authorizations.token)
  @RequireScopes('tokens:read')
  async token(
    @Payload() req: BusRequest<'authorizations.token'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'authorizations.token'>> {
    const p = ctx.getPrincipal();
    const served = await this.consumers
      .serve(
        consumerOf(p, 'rest'),
        { authorizationId: req.id },
        { minValiditySeconds: req.minValiditySeconds, ownedBy: p.sub, deadline: deadlineOf(ctx) },
      )
      .catch((err: unknown) => {
        if (err instanceof TokensError && err.code === 'NOT_FOUND')
          throw new TokensError('NOT_FOUND', 'Authorized provider not found.');
        throw err;
      });
    const answer = await this.authorized.accessTokenResponse(p.orgId, served);
    return served.ledgerTicket ? { ...answer, ledgerTicket: served.ledgerTicket } : answer;
  }

  @MessagePattern(MessagePatterns.authorizations.userinfo)
  @RequireScopes('authorizations:read')
  userinfo(
    @Payload() req: BusRequest<'authorizations.userinfo'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'authorizations.userinfo'>> {
    const p = ctx.getPrincipal();
    return this.authorized.userinfo(p.orgId, p.sub, req.id);
  }

  /**
   * The internal services' path: by authorization id, or by user + provider (+ account), within the
   * calling client's policy, optionally narrowed (`restriction`).
   */
  @MessagePattern(MessagePatterns.tokens.acquire)
  @RequireScopes('tokens:read')
  async acquire(
    @Payload() req: BusRequest<'tokens.acquire'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'tokens.acquire'>> {
    const p = ctx.getPrincipal();
    if (!req.authorizationId && (!req.userId || !req.providerId))
      throw new BusException('UNPROCESSABLE', 'give authorizationId, or userId and providerId');
    const target = req.authorizationId
      ? { authorizationId: req.authorizationId }
      : {
          userId: req.userId,
          providerId: req.providerId,
          ...(typeof req.account === 'string' ? { account: req.account } : {}),
        };
    // A user may only use their own authorizations (checked by the token path, from its memory when hot).
    const served = await this.consumers.serve(
      consumerOf(p, req.channel === 'rest' ? 'rest' : 'bus'),
      target,
      {
        minValiditySeconds: req.minValiditySeconds,
        ownedBy: ownerOf(p),
        restriction: req.restriction,
        deadline: deadlineOf(ctx),
      },
    );
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
      ...(served.ledgerTicket ? { ledgerTicket: served.ledgerTicket } : {}),
    };
  }
}

/**
 * The caller's deadline bounds the work (past it nobody reads the answer), less a moment to answer
 * with a typed error in time; never longer than the token path's own 10 s.
 */
function deadlineOf(ctx: BusContext): number {
  return Math.min(ctx.getDeadline() - WORK_MARGIN_MS, Date.now() + 10_000);
}
