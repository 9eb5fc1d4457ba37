import { Controller, Logger, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { AccessTokenVerifier, BusAuthGuard, InvalidAccessTokenError, RequireScopes } from '@broker/auth-kit';
import { ClientsService, RevocationsService, UsersService } from '@broker/identity';
import { AuthorizedProvidersService } from '@broker/tokens';
import { ConsumerChangeNotices } from './consumer-changes';

/** A value the payload pipe let through as a string, but that must not be empty or over-long. */
function required(value: string | undefined, name: string, max = 255): string {
  if (!value || value.length > max)
    throw new BusException('UNPROCESSABLE', `${name} is required`, [
      { name, message: `must be a non-empty string of at most ${max} characters` },
    ]);
  return value;
}

/**
 * The operator's admin API (scope `identity:admin`): disable, enable or delete a client or a user
 * of the caller's own org, and revoke everything of a client or a user, or one token. Another
 * org's client, user or token is NOT_FOUND, exactly like an unknown one.
 */
@Controller()
@UseGuards(BusAuthGuard)
export class IdentityAdminBusController {
  private readonly logger = new Logger('IdentityAdmin');

  constructor(
    private readonly clients: ClientsService,
    private readonly users: UsersService,
    private readonly revocations: RevocationsService,
    private readonly verifier: AccessTokenVerifier,
    private readonly authorized: AuthorizedProvidersService,
    private readonly changes: ConsumerChangeNotices,
  ) {}

  @MessagePattern(MessagePatterns.identity.adminClient)
  @RequireScopes('identity:admin')
  async client(
    @Payload() req: BusRequest<'identity.admin-client'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'identity.admin-client'>> {
    const orgId = ctx.getPrincipal().orgId;
    const clientId = required(req.clientId, 'clientId');
    const what = req.action;
    const done = await (what === 'disable'
      ? this.clients.disable(clientId, orgId)
      : what === 'enable'
        ? this.clients.enable(clientId, orgId)
        : this.clients.delete(clientId, orgId));
    if (!done) throw new BusException('NOT_FOUND', 'client not found');
    await this.changes.client(orgId, clientId, 'client');
    return { client_id: clientId, disabled: what !== 'enable', deleted: what === 'delete' };
  }

  @MessagePattern(MessagePatterns.identity.adminUser)
  @RequireScopes('identity:admin')
  async user(
    @Payload() req: BusRequest<'identity.admin-user'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'identity.admin-user'>> {
    const orgId = ctx.getPrincipal().orgId;
    const sub = required(req.sub, 'sub');
    const what = req.action;
    const done = await (what === 'disable'
      ? this.users.disable(orgId, sub)
      : what === 'enable'
        ? this.users.enable(orgId, sub)
        : this.users.delete(orgId, sub));
    if (!done) throw new BusException('NOT_FOUND', 'user not found');
    await this.changes.user(orgId, sub);
    const unlinked = what === 'delete' ? await this.unlinkAll(orgId, sub) : undefined;
    return {
      sub,
      disabled: what !== 'enable',
      deleted: what === 'delete',
      ...(unlinked === undefined ? {} : { unlinked }),
    };
  }

  /**
   * A deleted user's provider accounts are unlinked too (revoked at each provider where it can be),
   * so no service keeps getting their provider tokens. Best effort per link; returns how many went.
   */
  private async unlinkAll(orgId: string, sub: string): Promise<number> {
    let unlinked = 0;
    for (const link of await this.authorized.list(orgId, sub)) {
      try {
        await this.authorized.remove(orgId, sub, link.id);
        unlinked++;
      } catch (err) {
        this.logger.warn(
          `authorization ${link.id} of a deleted user not unlinked: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    return unlinked;
  }

  @MessagePattern(MessagePatterns.identity.adminRevoke)
  @RequireScopes('identity:admin')
  async revoke(
    @Payload() req: BusRequest<'identity.admin-revoke'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'identity.admin-revoke'>> {
    const orgId = ctx.getPrincipal().orgId;
    const given = (['client_id', 'sub', 'token'] as const).filter((name) => req[name] !== undefined);
    if (given.length !== 1)
      throw new BusException('UNPROCESSABLE', 'give exactly one of client_id, sub, token', [
        { name: 'body', message: 'exactly one of client_id, sub, token' },
      ]);
    const value = required(req[given[0]], given[0], given[0] === 'token' ? 8_192 : 255);
    if (given[0] === 'client_id') {
      if (!(await this.clients.revokeAllOfClient(value, orgId)))
        throw new BusException('NOT_FOUND', 'client not found');
      await this.changes.client(orgId, value, 'client');
      return { revoked: 'client' };
    }
    if (given[0] === 'sub') {
      if (!(await this.users.revokeAllOfUser(orgId, value)))
        throw new BusException('NOT_FOUND', 'user not found');
      await this.changes.user(orgId, value);
      return { revoked: 'subject' };
    }
    let claims;
    try {
      claims = await this.verifier.verifyIgnoringRevocation(value);
    } catch (err) {
      if (err instanceof InvalidAccessTokenError)
        throw new BusException('NOT_FOUND', 'token not found (invalid or expired)');
      throw err;
    }
    if (claims.org_id !== orgId) throw new BusException('NOT_FOUND', 'token not found (invalid or expired)');
    await this.revocations.revokeNow(async (em) => [
      await this.revocations.revokeToken(em, orgId, claims.jti, claims.exp),
    ]);
    return { revoked: 'token' };
  }
}
