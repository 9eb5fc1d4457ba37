import { Controller, Get, Inject, Param, Req, Res, UseFilters } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { HTML } from '../http/surfaces';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BusClientProxy, BusRemoteError } from '@broker/bus';
import type { BusReply } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { allowFormRedirects } from '../http/security-headers';
import { consentCookieName, consentCookieOptions } from './consent-cookie';
import { PageErrorFilter } from './page-error.filter';
import { renderConsentStart, renderMessagePage } from './page-templates';

const LINK = /^[A-Za-z0-9_-]{43}$/;

/** Why a setup link cannot be used, in words; keyed by the status the registry reports. */
const REFUSALS: Record<string, { status: number; title: string; message: string }> = {
  unknown: {
    status: 404,
    title: 'Link not found',
    message: 'This link is not valid. Check that you copied all of it, or ask the application for a new one.',
  },
  expired: {
    status: 410,
    title: 'Link expired',
    message: 'This link has expired. Ask the application for a new one.',
  },
  completed: {
    status: 410,
    title: 'Link already used',
    message:
      'This link has already been used to connect an account. Ask the application for a new one if you need to connect again.',
  },
  failed: {
    status: 410,
    title: 'Link already used',
    message:
      'This link was already used and the connection did not complete. Ask the application for a new one.',
  },
  unknown_user: {
    status: 410,
    title: 'Link not usable',
    message: 'The account this link was made for no longer exists. Ask the application for a new one.',
  },
  unavailable: {
    status: 410,
    title: 'Provider unavailable',
    message: 'This provider is not available at the moment. Try again later or ask the application for help.',
  },
};

/**
 * The hosted setup page (seed 002 `url`): the same consent start page as `/connect/start`, with
 * what the setup asks for in words. Opening the link starts a consent for the setup's user and
 * gives this browser the consent cookie; "Continue" posts to `/connect/start` like any consent.
 */
@Controller('connect/setup')
@UseFilters(PageErrorFilter)
export class SetupPagesController {
  constructor(
    private readonly bus: BusClientProxy,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get(':link')
  async open(
    @Param('link') link: string,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ): Promise<void> {
    if (!LINK.test(link)) return this.refuse(res, 'unknown');
    let started: BusReply<'authorizations.setup-consent'>;
    try {
      started = await this.bus.request('authorizations.setup-consent', { linkToken: link });
    } catch (err) {
      if (err instanceof BusRemoteError && err.code === 'NOT_FOUND') return this.refuse(res, 'unknown');
      if (err instanceof BusRemoteError && err.code === 'GONE')
        return this.refuse(res, err.fields?.find((f) => f.name === 'status')?.message ?? 'expired');
      throw err;
    }
    const nonce = randomBytes(32).toString('base64url');
    res.cookie(
      consentCookieName(this.config.publicUrl, started.flow),
      nonce,
      consentCookieOptions(this.config.publicUrl),
    );
    allowFormRedirects(req, res, this.config.publicUrl, [started.consent.authorizationOrigin]);
    res.type(HTML).send(
      renderConsentStart(res, {
        consent: started.consent,
        setup: started.setup,
        flow: started.flow,
        nonce,
        action: '/connect/start',
        cancel: '/connect/done?status=cancelled',
      }),
    );
  }

  private refuse(res: FastifyReply, reason: string): void {
    const refusal = REFUSALS[reason] ?? REFUSALS['expired'];
    res
      .status(refusal.status)
      .type(HTML)
      .send(renderMessagePage(res, { title: refusal.title, message: refusal.message }));
  }
}
