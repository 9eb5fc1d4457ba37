import { Body, Controller, Get, Inject, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { HTML } from '../http/surfaces';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BusClientProxy, BusRemoteError } from '@broker/bus';
import type { ConsentPage } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { allowFormRedirects } from '../http/security-headers';
import {
  bindingHash,
  consentCookieName,
  consentCookieOptions,
  readCookie,
  sameValue,
} from './consent-cookie';
import { PageErrorFilter } from './page-error.filter';
import { renderConnectResult, renderConsentStart, renderErrorPage } from './page-templates';

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const FLOW = /^[A-Za-z0-9_-]{43}$/;

/**
 * The hosted consent pages. A consent that returns to the broker's browser callback starts here:
 * `GET /connect/start?flow=…` shows what will be linked to whom and gives this browser a cookie;
 * the person's own click (`POST /connect/start`, with that cookie) binds the consent to the browser
 * and sends it to the provider; the callback then completes only with the same cookie.
 */
@Controller('connect')
@UseFilters(PageErrorFilter)
export class ConnectPagesController {
  constructor(
    private readonly bus: BusClientProxy,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get('start')
  async start(
    @Query('flow') flowParam: unknown,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    const flow = text(flowParam);
    if (!flow || !FLOW.test(flow))
      return this.refuse(res, 400, 'This link is not a connection link. Start again from the application.');
    let consent: ConsentPage;
    try {
      consent = await this.bus.request('authorizations.consent-page', { state: flow });
    } catch (err) {
      if (err instanceof BusRemoteError && err.code === 'NOT_FOUND')
        return this.refuse(
          res,
          404,
          'This connection link is unknown, expired or already used. Start again from the application.',
        );
      throw err;
    }
    // A fresh value each time the page is shown; the form carries it too (double submit).
    const nonce = randomBytes(32).toString('base64url');
    res.cookie(
      consentCookieName(this.config.publicUrl, flow),
      nonce,
      consentCookieOptions(this.config.publicUrl),
    );
    allowFormRedirects(req, res, this.config.publicUrl, [consent.authorizationOrigin]);
    res.type(HTML).send(
      renderConsentStart(res, {
        consent,
        flow,
        nonce,
        action: '/connect/start',
        cancel: '/connect/done?status=cancelled',
      }),
    );
  }

  @Post('start')
  async confirm(@Body() body: unknown, @Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    const form = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const flow = text(form['flow']);
    if (!flow || !FLOW.test(flow))
      return this.refuse(res, 400, 'This form is not a connection form. Start again from the application.');
    const name = consentCookieName(this.config.publicUrl, flow);
    const cookie = readCookie(req, name);
    // The cookie set with the page and the value in its form: a form posted from another site has no matching pair.
    if (!sameValue(cookie, text(form['nonce']))) {
      return this.refuse(
        res,
        403,
        'This connection was not started on this page in this browser. Start again from the application.',
      );
    }
    let redirectUrl: string;
    try {
      ({ redirectUrl } = await this.bus.request('authorizations.consent-bind', {
        state: flow,
        bindingHash: bindingHash(cookie as string),
      }));
    } catch (err) {
      if (err instanceof BusRemoteError && err.code !== 'INTERNAL')
        return this.refuse(
          res,
          400,
          'This connection is unknown, expired or already started. Start again from the application.',
        );
      throw err;
    }
    res.redirect(redirectUrl, 303);
  }

  /** The page the browser callback lands on: whether the connection worked (no secrets in it). */
  @Get('done')
  done(@Query() query: Record<string, unknown>, @Res() res: FastifyReply): void {
    const ok = query['status'] === 'connected';
    const error = query['status'] === 'cancelled' ? 'cancelled' : text(query['error']);
    res
      .type(HTML)
      .send(
        renderConnectResult(res, { ok, authorizedProviderId: text(query['authorizedProviderId']), error }),
      );
  }

  private refuse(res: FastifyReply, status: number, message: string): void {
    res
      .status(status)
      .type(HTML)
      .send(renderErrorPage(res, { title: 'Not connected', message }));
  }
}
