import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
  Req,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { BusClientProxy } from '@broker/bus';
import type {
  AdminAction,
  AdminRevokeRequest,
  AdminRevokeResult,
  ClientMetadataDocumentSettings,
} from '@broker/contracts';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { OAuthErrorFilter, OAuthValidationError } from './oauth-error.filter';
import { PrincipalAuthGuard } from './principal-auth.guard';

type Authed = { user: AuthenticatedCaller };

/** A client id or subject in the path: 1 to 255 characters (422 otherwise, in the seed's shape). */
function pathId(value: string, name: string): string {
  if (value.length === 0 || value.length > 255)
    throw new OAuthValidationError([
      { loc: ['path', name], msg: 'String should have 1 to 255 characters', type: 'string_length' },
    ]);
  return value;
}

/** `{client_id}`, `{sub}` or `{token}`: exactly one, a string. */
export function parseAdminRevoke(body: unknown): AdminRevokeRequest {
  const raw = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  const detail: { loc: string[]; msg: string; type: string }[] = [];
  const out: AdminRevokeRequest = {};
  for (const name of ['client_id', 'sub', 'token'] as const) {
    const v = raw[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v === '')
      detail.push({ loc: ['body', name], msg: 'Input should be a non-empty string', type: 'string_type' });
    else out[name] = v;
  }
  if (!detail.length && Object.keys(out).length !== 1)
    detail.push({ loc: ['body'], msg: 'Give exactly one of client_id, sub, token', type: 'value_error' });
  if (detail.length) throw new OAuthValidationError(detail);
  return out;
}

/** `{enabled, allowedClients?, maxScopes?}`: the org's settings for clients identified by URL (422 otherwise). */
export function parseClientMetadataSettings(body: unknown): ClientMetadataDocumentSettings {
  const raw = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<
    string,
    unknown
  >;
  const detail: { loc: string[]; msg: string; type: string }[] = [];
  if (typeof raw['enabled'] !== 'boolean')
    detail.push({ loc: ['body', 'enabled'], msg: 'Input should be a valid boolean', type: 'bool_type' });
  const list = (name: 'allowedClients' | 'maxScopes', maxItems: number, maxLength: number): string[] => {
    const v = raw[name];
    if (v === undefined || v === null) return [];
    if (
      !Array.isArray(v) ||
      v.length > maxItems ||
      v.some((e) => typeof e !== 'string' || e.length === 0 || e.length > maxLength)
    ) {
      detail.push({
        loc: ['body', name],
        msg: `Input should be a list of at most ${maxItems} non-empty strings of at most ${maxLength} characters`,
        type: 'list_type',
      });
      return [];
    }
    return v as string[];
  };
  const allowedClients = list('allowedClients', 50, 512);
  const maxScopes = list('maxScopes', 64, 128);
  for (const name of Object.keys(raw))
    if (!['enabled', 'allowedClients', 'maxScopes'].includes(name))
      detail.push({ loc: ['body', name], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' });
  if (detail.length) throw new OAuthValidationError(detail);
  return { enabled: raw['enabled'] as boolean, allowedClients, maxScopes };
}

/**
 * The operator's admin API (scope `identity:admin`, the caller's own org only): disable, enable or
 * delete a client or a user, and revoke everything of a client or a user, or one token. Every
 * token concerned is refused by every gateway and service within 5 s (see docs/identity.md).
 */
@Controller('api/v1/oauth/admin')
@UseGuards(PrincipalAuthGuard)
@UseFilters(OAuthErrorFilter)
export class AdminController {
  constructor(private readonly bus: BusClientProxy) {}

  @Post('clients/:clientId/disable')
  @HttpCode(200)
  disableClient(@Param('clientId') clientId: string, @Req() req: Authed) {
    return this.client(clientId, 'disable', req);
  }

  @Post('clients/:clientId/enable')
  @HttpCode(200)
  enableClient(@Param('clientId') clientId: string, @Req() req: Authed) {
    return this.client(clientId, 'enable', req);
  }

  @Delete('clients/:clientId')
  @HttpCode(204)
  async deleteClient(@Param('clientId') clientId: string, @Req() req: Authed): Promise<void> {
    await this.client(clientId, 'delete', req);
  }

  @Post('users/:sub/disable')
  @HttpCode(200)
  disableUser(@Param('sub') sub: string, @Req() req: Authed) {
    return this.person(sub, 'disable', req);
  }

  @Post('users/:sub/enable')
  @HttpCode(200)
  enableUser(@Param('sub') sub: string, @Req() req: Authed) {
    return this.person(sub, 'enable', req);
  }

  @Delete('users/:sub')
  @HttpCode(204)
  async deleteUser(@Param('sub') sub: string, @Req() req: Authed): Promise<void> {
    await this.person(sub, 'delete', req);
  }

  /** Revokes every token of a client or a user issued until now, or one access token. */
  @Post('revoke')
  @HttpCode(200)
  revoke(@Body() body: unknown, @Req() req: Authed): Promise<AdminRevokeResult> {
    return this.bus.request('identity.admin-revoke', parseAdminRevoke(body), { auth: req.user.token });
  }

  /** Whether the org accepts clients identified by URL (client ID metadata documents), which, and with which scopes at most. */
  @Get('client-metadata-documents')
  clientMetadataSettings(@Req() req: Authed): Promise<ClientMetadataDocumentSettings> {
    return this.bus.request('identity.client-metadata-settings.get', {}, { auth: req.user.token });
  }

  @Put('client-metadata-documents')
  setClientMetadataSettings(
    @Body() body: unknown,
    @Req() req: Authed,
  ): Promise<ClientMetadataDocumentSettings> {
    return this.bus.request('identity.client-metadata-settings.set', parseClientMetadataSettings(body), {
      auth: req.user.token,
    });
  }

  private client(clientId: string, action: AdminAction, req: Authed) {
    return this.bus.request(
      'identity.admin-client',
      { clientId: pathId(clientId, 'client_id'), action },
      { auth: req.user.token },
    );
  }

  private person(sub: string, action: AdminAction, req: Authed) {
    // Deleting a user also unlinks their provider accounts (a revocation call to each provider).
    return this.bus.request(
      'identity.admin-user',
      { sub: pathId(sub, 'sub'), action },
      { auth: req.user.token, timeoutMs: action === 'delete' ? 30_000 : undefined },
    );
  }
}
