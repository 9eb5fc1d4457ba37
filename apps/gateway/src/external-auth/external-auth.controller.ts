import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { BusClientProxy } from '@broker/bus';
import type {
  DeleteExternalAuthResponse,
  ExternalAuth,
  ExternalAuthDevice,
  ListUserExternalAuthResponse,
} from '@broker/contracts';
import { RequireScopes } from '@broker/auth-kit';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { ScopesGuard } from '../auth/scopes.guard';
import { EXTERNAL_AUTH_PATH, ExternalAuthHttpError } from './external-auth-error.filter';
import { ExternalAuthGuard } from './external-auth.guard';

type Authed = { user: AuthenticatedCaller };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const deviceExchangeBody = z.strictObject(
  {
    device_code: z
      .string({ message: 'must be a string' })
      .min(1, { message: 'must not be empty' })
      .max(4096, { message: 'is too long' }),
  },
  { message: 'must be a JSON object' },
);

/** `{externalauth}` is a provider id (UUID); anything else names no provider of the org. */
function providerId(value: string): string {
  if (!UUID.test(value))
    throw new ExternalAuthHttpError(404, { message: 'External auth provider not found.' });
  return value.toLowerCase();
}

/**
 * Seed 001's external-auth surface (Coder's `/api/v2/external-auth`), over the same tokens domain
 * as the authorized-provider routes and with the same scopes: reads need `authorizations:read`,
 * anything that links or unlinks needs `authorizations:write`. The broker's token is accepted as
 * Coder's clients send their session token (ExternalAuthGuard). Errors: codersdk.Response (the
 * gateway's SurfaceErrorFilter picks ExternalAuthErrorFilter for this path).
 */
@Controller(EXTERNAL_AUTH_PATH.slice(1))
@UseGuards(ExternalAuthGuard, ScopesGuard)
export class ExternalAuthController {
  constructor(private readonly bus: BusClientProxy) {}

  /** Coder's `{providers, links}`: the providers the user can link, and the user's links, each validated at its provider. */
  @Get()
  @RequireScopes('authorizations:read')
  list(@Req() req: Authed): Promise<ListUserExternalAuthResponse> {
    return this.bus.request('external-auth.list', {}, { auth: req.user.token, timeoutMs: 15_000 });
  }

  @Get(':externalauth')
  @RequireScopes('authorizations:read')
  get(@Param('externalauth') id: string, @Req() req: Authed): Promise<ExternalAuth> {
    return this.bus.request(
      'external-auth.get',
      { providerId: providerId(id) },
      { auth: req.user.token, timeoutMs: 15_000 },
    );
  }

  /** Unlinks (200): revoked at the provider when it can be, removed whatever it answers. */
  @Delete(':externalauth')
  @HttpCode(200)
  @RequireScopes('authorizations:write')
  remove(@Param('externalauth') id: string, @Req() req: Authed): Promise<DeleteExternalAuthResponse> {
    return this.bus.request(
      'external-auth.delete',
      { providerId: providerId(id) },
      { auth: req.user.token, timeoutMs: 15_000 },
    );
  }

  /** Starts a device authorization (RFC 8628). The body carries the device code: it is never logged. */
  @Get(':externalauth/device')
  @RequireScopes('authorizations:write')
  startDevice(@Param('externalauth') id: string, @Req() req: Authed): Promise<ExternalAuthDevice> {
    return this.bus.request(
      'external-auth.device-start',
      { providerId: providerId(id) },
      { auth: req.user.token, timeoutMs: 20_000 },
    );
  }

  /** 204 once the poller has linked the account; else 400 with the RFC 8628 state as `message`. */
  @Post(':externalauth/device')
  @HttpCode(204)
  @RequireScopes('authorizations:write')
  async exchangeDevice(
    @Param('externalauth') id: string,
    @Body() body: unknown,
    @Req() req: Authed,
  ): Promise<void> {
    const provider = providerId(id);
    const parsed = deviceExchangeBody.safeParse(body ?? undefined);
    if (!parsed.success) {
      throw new ExternalAuthHttpError(400, {
        message: 'Invalid request body.',
        validations: parsed.error.issues.map((i) => ({
          field: i.path.join('.') || 'body',
          detail: i.message,
        })),
      });
    }
    const result = await this.bus.request(
      'external-auth.device-exchange',
      { providerId: provider, deviceCode: parsed.data.device_code },
      { auth: req.user.token },
    );
    if (result.state !== 'authorized')
      throw new ExternalAuthHttpError(400, { message: result.state, detail: result.detail });
  }
}
