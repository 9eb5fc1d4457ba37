import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { HTML } from '../http/surfaces';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BusClientProxy, BusRemoteError } from '@broker/bus';
import type {
  AccessTokenResponse,
  AuthorizeProviderResponse,
  AuthorizedProvider,
  OAuthUserResponse,
  ProviderCallbackResponse,
} from '@broker/contracts';
import { RequireScopes } from '@broker/auth-kit';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { Inject } from '@nestjs/common';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ScopesGuard } from '../auth/scopes.guard';
import { ExternalOAuthHttpError } from './external-oauth-error.filter';
import { bindingHash, consentCookieName, consentCookieOptions, readCookie } from '../pages/consent-cookie';
import { renderErrorPage, renderMessagePage } from '../pages/page-templates';
import type { BrowserSetupResult } from '@broker/contracts';
import { parseId } from './provider-bodies';
import { withoutLedgerTicket } from './ledger-ticket';

type Authed = { user: AuthenticatedCaller };

export const callbackBody = z.strictObject(
  {
    code: z.string({ message: 'must be a string' }).min(1, { message: 'must not be empty' }).max(4096),
    providerId: z
      .string({ message: 'must be a string' })
      .regex(/^[0-9a-f-]{36}$/i, { message: 'must be a UUID' }),
    state: z.string({ message: 'must be a string' }).min(1, { message: 'must not be empty' }).max(512),
    iss: z.string().max(2048).optional(),
  },
  { message: 'must be a JSON object' },
);

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

/**
 * The consent flow (seed 000): authorize → the provider → callback. The POST callback is for front
 * ends that receive the provider's redirect themselves; the GET callback is where providers send
 * the browser by default: it completes the flow and redirects (303) to a result page.
 */
@Controller('api/v2/externalOAuth/providers')
export class ConsentController {
  constructor(
    private readonly bus: BusClientProxy,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Post('callback')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard, ScopesGuard)
  @RequireScopes('authorizations:write')
  callback(@Body() body: unknown, @Req() req: Authed): Promise<ProviderCallbackResponse> {
    const parsed = callbackBody.safeParse(body ?? undefined);
    if (!parsed.success) {
      throw new ExternalOAuthHttpError(
        422,
        'Invalid callback.',
        parsed.error.issues.map((i) => ({ name: i.path.join('.') || 'body', message: i.message })),
      );
    }
    return this.bus.request('authorizations.callback', parsed.data, { auth: req.user.token });
  }

  /**
   * The provider sends the browser back here. The consent completes only if this browser started
   * it on the broker's start page (its consent cookie); any other browser gets a page saying so,
   * and nothing is linked (account-linking CSRF).
   */
  @Get('callback')
  async browserCallback(
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    res.header('Referrer-Policy', 'no-referrer');
    const state = text(query['state']);
    const providerId = text(query['providerId']) ?? text(query['provider_id']);
    const done = (params: Record<string, string | null | undefined>) => {
      const target = new URL(`${this.config.publicUrl}/connect/done`);
      for (const [k, v] of Object.entries(params)) if (v) target.searchParams.set(k, v);
      res.redirect(target.toString(), 303);
    };
    const providerError = text(query['error']);
    const code = text(query['code']);
    const cookieName = state ? consentCookieName(this.config.publicUrl, state) : undefined;
    const cookie = cookieName ? readCookie(req, cookieName) : undefined;
    const reply = await this.bus
      .request('authorizations.browser-callback', {
        code: providerError ? (undefined as unknown as string) : (code as string),
        state: state as string,
        providerId: providerId ?? '',
        iss: text(query['iss']),
        browserBinding: cookie ? bindingHash(cookie) : undefined,
        error: providerError,
      })
      .catch((err: unknown) => {
        // Values no provider sends (too long for the broker's payload schema): a browser gets a page, never a JSON error.
        if (err instanceof BusRemoteError && err.code === 'BAD_REQUEST') return null;
        throw err;
      });
    if (reply === null) {
      res
        .status(400)
        .type(HTML)
        .send(
          renderErrorPage(res, {
            title: 'Not connected',
            message:
              'The provider’s answer could not be read, so nothing was linked. Start again from your application.',
          }),
        );
      return;
    }
    // The cookie has done its job either way.
    if (cookieName && cookie)
      res.clearCookie(cookieName, { ...consentCookieOptions(this.config.publicUrl), maxAge: undefined });
    if (!reply.ok && reply.error === 'browser_mismatch') {
      res
        .status(400)
        .type(HTML)
        .send(
          renderErrorPage(res, {
            title: 'Not connected',
            message:
              'This connection was not started in this browser, so nothing was linked. If you want to connect an account, start again from your own application.',
          }),
        );
      return;
    }
    if (reply.setup) return this.setupDone(res, reply.setup, reply.ok ? null : reply.error);
    if (reply.ok)
      return done({
        status: 'connected',
        authorizedProviderId: reply.authorizationId,
        providerId: reply.providerId,
        state: reply.clientState,
      });
    done({
      status: 'failed',
      error: providerError === 'access_denied' ? 'access_denied' : reply.error,
      state: reply.clientState,
    });
  }

  /**
   * The end of a hosted setup's consent: the browser goes to the setup's `redirect_url` with
   * `status` and `setup_id` (and `error` when it failed); without one, a page says how it went. A
   * provider that did not answer leaves the setup open: the page says to open the link again.
   */
  private setupDone(res: FastifyReply, setup: BrowserSetupResult, error: string | null): void {
    if (error === 'temporarily_unavailable') {
      res
        .status(503)
        .type(HTML)
        .send(
          renderMessagePage(res, {
            title: 'Provider not answering',
            message:
              'The provider did not answer, so nothing was connected. Open the link you were given again in a few minutes to try once more.',
          }),
        );
      return;
    }
    const status = error ? 'failed' : setup.status === 'unknown' ? 'completed' : setup.status;
    if (setup.redirectUrl) {
      const target = new URL(setup.redirectUrl);
      target.searchParams.set('status', status);
      target.searchParams.set('setup_id', setup.id);
      if (error) target.searchParams.set('error', error);
      res.redirect(target.toString(), 303);
      return;
    }
    const words: Record<string, string> = {
      access_denied: 'The access was declined at the provider, so nothing was connected.',
      invalid_request: 'The provider’s answer could not be used, so nothing was connected.',
    };
    res
      .status(200)
      .type(HTML)
      .send(
        error
          ? renderMessagePage(res, {
              title: 'Not connected',
              message: words[error] ?? words['invalid_request'],
            })
          : renderMessagePage(res, {
              title: 'Connected',
              ok: true,
              message: 'Your account is connected. You can close this window and return to the application.',
            }),
      );
  }

  @Post(':providerId/authorize')
  @HttpCode(200)
  @UseGuards(BearerAuthGuard, ScopesGuard)
  @RequireScopes('authorizations:write')
  authorize(
    @Param('providerId') id: string,
    @Query('state') state: unknown,
    @Query('redirect_uri') redirectUri: unknown,
    @Req() req: Authed,
  ): Promise<AuthorizeProviderResponse> {
    const errors: { name: string; message: string }[] = [];
    if (state !== undefined && (typeof state !== 'string' || state.length > 512))
      errors.push({ name: 'state', message: 'must be one string of at most 512 characters' });
    if (redirectUri !== undefined && (typeof redirectUri !== 'string' || !URL.canParse(redirectUri)))
      errors.push({ name: 'redirect_uri', message: 'must be one absolute URL' });
    if (errors.length) throw new ExternalOAuthHttpError(422, 'Invalid query parameters.', errors);
    return this.bus.request(
      'authorizations.authorize',
      {
        providerId: parseId(id, 'providerId'),
        state: state as string | undefined,
        redirectUri: redirectUri as string | undefined,
      },
      { auth: req.user.token },
    );
  }
}

/** `/api/v2/externalOAuth/authorizedProviders/` (seed 000): the caller's own authorizations. */
@Controller('api/v2/externalOAuth/authorizedProviders')
@UseGuards(BearerAuthGuard, ScopesGuard)
export class AuthorizedProvidersController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get()
  @RequireScopes('authorizations:read')
  list(@Req() req: Authed): Promise<{ data: AuthorizedProvider[] }> {
    return this.bus.request('authorizations.list', {}, { auth: req.user.token });
  }

  /** Unlinks (204): revoked at the provider when it can be, removed whatever it answers. */
  @Delete(':authorizedProviderId')
  @HttpCode(204)
  @RequireScopes('authorizations:write')
  async remove(@Param('authorizedProviderId') id: string, @Req() req: Authed): Promise<void> {
    await this.bus.request(
      'authorizations.delete',
      { id: parseId(id, 'authorizedProviderId') },
      { auth: req.user.token },
    );
  }

  @Post(':authorizedProviderId/token')
  @HttpCode(201)
  @RequireScopes('tokens:read')
  token(@Param('authorizedProviderId') id: string, @Req() req: Authed): Promise<AccessTokenResponse> {
    return authorizationToken(this.bus, id, req.user);
  }

  @Get(':authorizedProviderId/userinfo')
  @RequireScopes('authorizations:read')
  userinfo(@Param('authorizedProviderId') id: string, @Req() req: Authed): Promise<OAuthUserResponse> {
    return this.bus.request(
      'authorizations.userinfo',
      { id: parseId(id, 'authorizedProviderId') },
      { auth: req.user.token, timeoutMs: 12_000 },
    );
  }
}

/** `POST …/authorizedProviders/{id}/token/` once the caller is authenticated (also run by the hot token routes: `http/hot-token-routes.ts`). */
export function authorizationToken(
  bus: BusClientProxy,
  id: string,
  caller: AuthenticatedCaller,
): Promise<AccessTokenResponse> {
  return bus
    .request(
      'authorizations.token',
      { id: parseId(id, 'authorizedProviderId') },
      { auth: caller.token, timeoutMs: 12_000 },
    )
    .then(withoutLedgerTicket);
}
