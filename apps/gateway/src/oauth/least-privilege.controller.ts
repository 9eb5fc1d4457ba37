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
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { ZodType } from 'zod';
import { BusClientProxy } from '@broker/bus';
import {
  LedgerEntry,
  LedgerPage,
  RevocationJob,
  TokenGrant,
  ledgerLookupSchema,
  ledgerQuerySchema,
  newTokenGrantSchema,
  startRevocationJobSchema,
} from '@broker/contracts';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { OAuthErrorFilter, OAuthValidationError } from './oauth-error.filter';
import { PrincipalAuthGuard } from './principal-auth.guard';

type Authed = { user: AuthenticatedCaller };

/** The value as `schema` reads it, or a 422 in seed 003's shape naming each bad field under `where`. */
export function parseOr422<T>(schema: ZodType<T>, value: unknown, where: 'body' | 'query' | 'path'): T {
  const parsed = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (parsed.success) return parsed.data;
  throw new OAuthValidationError(
    parsed.error.issues.slice(0, 50).map((i) => ({
      loc: [where, ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))],
      msg: i.code === 'unrecognized_keys' ? `Unknown field(s): ${i.keys.join(', ')}` : i.message,
      type: i.code,
    })),
  );
}

function pathId(value: string, name: string): string {
  if (value.length === 0 || value.length > 255)
    throw new OAuthValidationError([
      { loc: ['path', name], msg: 'String should have 1 to 255 characters', type: 'string_length' },
    ]);
  return value;
}

/** Query strings are text: numbers are read as numbers where the schema wants them. */
function ledgerQuery(query: Record<string, unknown>): unknown {
  const out: Record<string, unknown> = { ...query };
  if (typeof out['limit'] === 'string' && /^\d+$/.test(out['limit'])) out['limit'] = Number(out['limit']);
  return out;
}

/**
 * Least privilege for an org's admin (scope `identity:admin`, checked by the token-broker; the
 * caller's own org only): consumer policies (which provider tokens each client may be served) and
 * the provenance ledger (who was served which token). Errors in seed 003's `{detail}` shape.
 */
@Controller('api/v1/oauth/admin')
@UseGuards(PrincipalAuthGuard)
@UseFilters(OAuthErrorFilter)
export class LeastPrivilegeController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get('token-grants')
  grants(@Req() req: Authed): Promise<{ items: TokenGrant[] }> {
    return this.bus.request('identity.token-grants.list', {}, { auth: req.user.token });
  }

  @Get('clients/:clientId/token-grants')
  grantsOf(@Param('clientId') clientId: string, @Req() req: Authed): Promise<{ items: TokenGrant[] }> {
    return this.bus.request(
      'identity.token-grants.list',
      { clientId: pathId(clientId, 'client_id') },
      { auth: req.user.token },
    );
  }

  @Post('clients/:clientId/token-grants')
  @HttpCode(201)
  grant(@Param('clientId') clientId: string, @Body() body: unknown, @Req() req: Authed): Promise<TokenGrant> {
    const grant = parseOr422(newTokenGrantSchema, body, 'body');
    return this.bus.request(
      'identity.token-grants.create',
      { clientId: pathId(clientId, 'client_id'), grant },
      { auth: req.user.token },
    );
  }

  @Delete('token-grants/:grantId')
  @HttpCode(204)
  async withdraw(@Param('grantId') grantId: string, @Req() req: Authed): Promise<void> {
    await this.bus.request(
      'identity.token-grants.delete',
      { id: pathId(grantId, 'grant_id') },
      { auth: req.user.token },
    );
  }

  /** `?subject=&consumer=&authorizationId=&providerId=&since=&limit=&cursor=`, newest first. */
  @Get('ledger')
  ledger(@Query() query: Record<string, unknown>, @Req() req: Authed): Promise<LedgerPage> {
    return this.bus.request(
      'tokens.ledger.search',
      parseOr422(ledgerQuerySchema, ledgerQuery(query), 'query'),
      { auth: req.user.token },
    );
  }

  /** `{token}`, `{sha256}` (GitHub's `hashed_token`) or `{fingerprint}`: every consumer served that token. */
  @Post('ledger/lookup')
  @HttpCode(200)
  lookup(@Body() body: unknown, @Req() req: Authed): Promise<{ items: LedgerEntry[] }> {
    return this.bus.request('tokens.ledger.lookup', parseOr422(ledgerLookupSchema, body, 'body'), {
      auth: req.user.token,
    });
  }

  /**
   * Blast-radius revocation: `{user}`, `{consumer}` or `{provider}` (+ `reason`). 202 with the job;
   * read it until `status` is `done` (or `failed`): its report lists what the provider could not revoke.
   */
  @Post('revocation-jobs')
  @HttpCode(202)
  startRevocation(@Body() body: unknown, @Req() req: Authed): Promise<RevocationJob> {
    return this.bus.request(
      'tokens.revocation-jobs.start',
      parseOr422(startRevocationJobSchema, body, 'body'),
      {
        auth: req.user.token,
      },
    );
  }

  @Get('revocation-jobs/:jobId')
  revocationJob(@Param('jobId') jobId: string, @Req() req: Authed): Promise<RevocationJob> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId))
      throw new OAuthValidationError([
        { loc: ['path', 'job_id'], msg: 'Input should be a valid UUID', type: 'uuid_parsing' },
      ]);
    return this.bus.request('tokens.revocation-jobs.get', { id: jobId }, { auth: req.user.token });
  }
}
