import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { BusClientProxy } from '@broker/bus';
import type { AcquiredToken, AcquireTokenRequest } from '@broker/contracts';
import { RequireScopes } from '@broker/auth-kit';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ScopesGuard } from '../auth/scopes.guard';
import { ExternalOAuthHttpError } from './external-oauth-error.filter';
import { withoutLedgerTicket } from './ledger-ticket';

type Authed = { user: AuthenticatedCaller };

const uuid = z
  .string({ message: 'must be a string' })
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: 'must be a UUID' });
const body = z.strictObject(
  {
    authorizationId: uuid.optional(),
    userId: z
      .string({ message: 'must be a string' })
      .min(1, { message: 'must not be empty' })
      .max(256)
      .optional(),
    providerId: uuid.optional(),
    minValiditySeconds: z
      .number({ message: 'must be a number' })
      .int({ message: 'must be a whole number' })
      .min(0)
      .max(86_400)
      .optional(),
  },
  { message: 'must be a JSON object' },
);

/**
 * `POST /api/v2/externalOAuth/tokens/`: the bus's `tokens.acquire` for services that are not Node
 * (or do not use the bus): a provider access token by `authorizationId`, or by `userId` +
 * `providerId`, with `minValiditySeconds`. Same rules as the bus: scope `tokens:read`, the caller's
 * org only; a service account may name any user of its org, a user only themselves.
 */
@Controller('api/v2/externalOAuth/tokens')
@UseGuards(BearerAuthGuard, ScopesGuard)
export class TokensController {
  constructor(private readonly bus: BusClientProxy) {}

  @Post()
  @HttpCode(200)
  @RequireScopes('tokens:read')
  acquire(@Body() raw: unknown, @Req() req: Authed): Promise<AcquiredToken> {
    return acquireToken(this.bus, raw, req.user);
  }
}

/** The route's work once the caller is authenticated (also run by the hot token routes: `http/hot-token-routes.ts`). */
export function acquireToken(
  bus: BusClientProxy,
  raw: unknown,
  caller: AuthenticatedCaller,
): Promise<AcquiredToken> {
  // `channel`: the ledger records this serve as a REST one.
  return bus
    .request(
      'tokens.acquire',
      { ...parseAcquire(raw), channel: 'rest' },
      { auth: caller.token, timeoutMs: 12_000 },
    )
    .then(withoutLedgerTicket);
}

/** Exactly one of `authorizationId` or `userId` + `providerId`; anything else is a 422 naming the fields. */
export function parseAcquire(raw: unknown): AcquireTokenRequest {
  const parsed = body.safeParse(raw ?? undefined);
  if (!parsed.success) {
    throw new ExternalOAuthHttpError(
      422,
      'Invalid token request.',
      parsed.error.issues.map((i) => ({
        name: i.path.join('.') || 'body',
        message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
      })),
    );
  }
  const { authorizationId, userId, providerId } = parsed.data;
  const byId = authorizationId !== undefined;
  const byUser = userId !== undefined || providerId !== undefined;
  if (byId === byUser || (byUser && (userId === undefined || providerId === undefined))) {
    throw new ExternalOAuthHttpError(422, 'Invalid token request.', [
      { name: 'body', message: 'give either authorizationId, or userId and providerId' },
    ]);
  }
  return parsed.data;
}
