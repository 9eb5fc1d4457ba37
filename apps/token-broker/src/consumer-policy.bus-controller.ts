import { Controller, UseFilters, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import type { ZodType } from 'zod';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, LEAST_PRIVILEGE_BUS_SCHEMAS, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard, RequireScopes } from '@broker/auth-kit';
import { TokenGrantError, TokenGrantsService } from '@broker/identity';
import { TokenLedger } from '@broker/tokens';
import { ConsumerChangeNotices } from './consumer-changes';
import { TokensErrorFilter } from './tokens-error.filter';

/** The payload as its schema reads it; UNPROCESSABLE naming each bad field otherwise. */
export function parse<T>(schema: ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  throw new BusException(
    'UNPROCESSABLE',
    'invalid request',
    parsed.error.issues
      .slice(0, 50)
      .map((i) => ({ name: i.path.map(String).join('.') || 'payload', message: i.message })),
  );
}

/**
 * An org admin's view of least privilege (scope `identity:admin`, the caller's own org only):
 * consumer policies (grants made, listed and withdrawn) and the provenance ledger.
 */
@Controller()
@UseGuards(BusAuthGuard)
@UseFilters(TokensErrorFilter)
export class ConsumerPolicyBusController {
  constructor(
    private readonly grants: TokenGrantsService,
    private readonly ledger: TokenLedger,
    private readonly changes: ConsumerChangeNotices,
  ) {}

  @MessagePattern(MessagePatterns.tokenGrants.list)
  @RequireScopes('identity:admin')
  async list(
    @Payload() raw: unknown,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'identity.token-grants.list'>> {
    const req = parse(LEAST_PRIVILEGE_BUS_SCHEMAS['identity.token-grants.list'], raw);
    return { items: await this.grants.list(ctx.getPrincipal().orgId, req.clientId) };
  }

  @MessagePattern(MessagePatterns.tokenGrants.create)
  @RequireScopes('identity:admin')
  async create(
    @Payload() raw: unknown,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'identity.token-grants.create'>> {
    const req = parse(LEAST_PRIVILEGE_BUS_SCHEMAS['identity.token-grants.create'], raw);
    const orgId = ctx.getPrincipal().orgId;
    try {
      const grant = await this.grants.create(orgId, req.clientId, req.grant);
      await this.changes.client(orgId, grant.clientId, 'policy');
      return grant;
    } catch (err) {
      if (!(err instanceof TokenGrantError)) throw err;
      // Another org's client is NOT_FOUND, exactly like an unknown one.
      if (/does not exist/.test(err.message)) throw new BusException('NOT_FOUND', 'client not found');
      throw new BusException('UNPROCESSABLE', err.message, [{ name: 'grant', message: err.message }]);
    }
  }

  @MessagePattern(MessagePatterns.tokenGrants.delete)
  @RequireScopes('identity:admin')
  async remove(
    @Payload() raw: unknown,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'identity.token-grants.delete'>> {
    const req = parse(LEAST_PRIVILEGE_BUS_SCHEMAS['identity.token-grants.delete'], raw);
    const orgId = ctx.getPrincipal().orgId;
    const clientId = await this.grants.withdraw(orgId, req.id);
    if (clientId === null) throw new BusException('NOT_FOUND', 'grant not found');
    await this.changes.client(orgId, clientId, 'policy');
    return { deleted: true };
  }

  /** "Who received tokens of this user since …" (and by consumer, authorization, provider). */
  @MessagePattern(MessagePatterns.tokens.ledgerSearch)
  @RequireScopes('identity:admin')
  async search(@Payload() raw: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'tokens.ledger.search'>> {
    const req = parse(LEAST_PRIVILEGE_BUS_SCHEMAS['tokens.ledger.search'], raw);
    // What was served a moment ago is found too: pending records are written first.
    await this.ledger.flush();
    return this.ledger.search(ctx.getPrincipal().orgId, req);
  }

  /** "Which consumer got this token": by the token, its SHA-256 (GitHub's `hashed_token`) or its fingerprint. */
  @MessagePattern(MessagePatterns.tokens.ledgerLookup)
  @RequireScopes('identity:admin')
  async lookup(@Payload() raw: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'tokens.ledger.lookup'>> {
    const req = parse(LEAST_PRIVILEGE_BUS_SCHEMAS['tokens.ledger.lookup'], raw);
    const fingerprint =
      'fingerprint' in req
        ? req.fingerprint
        : 'token' in req
          ? this.ledger.fingerprintOf({ token: req.token })
          : this.ledger.fingerprintOf({ sha256: Buffer.from(req.sha256, 'base64') });
    await this.ledger.flush();
    return { items: await this.ledger.byFingerprint(ctx.getPrincipal().orgId, fingerprint) };
  }
}
