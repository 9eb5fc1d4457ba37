import { Controller, UseFilters, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, LEAST_PRIVILEGE_BUS_SCHEMAS, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard, RequireScopes } from '@broker/auth-kit';
import { RevocationJobsStore } from '@broker/tokens';
import { BlastRadius } from './blast-radius';
import { parse } from './consumer-policy.bus-controller';
import { TokensErrorFilter } from './tokens-error.filter';

/** Blast-radius revocation jobs of the caller's org (scope `identity:admin`). */
@Controller()
@UseGuards(BusAuthGuard)
@UseFilters(TokensErrorFilter)
export class RevocationJobsBusController {
  constructor(
    private readonly blast: BlastRadius,
    private readonly store: RevocationJobsStore,
  ) {}

  @MessagePattern(MessagePatterns.tokens.startRevocationJob)
  @RequireScopes('identity:admin')
  start(@Payload() raw: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'tokens.revocation-jobs.start'>> {
    const req = parse(LEAST_PRIVILEGE_BUS_SCHEMAS['tokens.revocation-jobs.start'], raw);
    const p = ctx.getPrincipal();
    const [kind, id] =
      req.user !== undefined
        ? (['user', req.user] as const)
        : req.consumer !== undefined
          ? (['consumer', req.consumer] as const)
          : (['provider', req.provider as string] as const);
    return this.blast.start(p.orgId, kind, id, req.reason, p.act ? `${p.act.client_id} for ${p.sub}` : p.sub);
  }

  @MessagePattern(MessagePatterns.tokens.getRevocationJob)
  @RequireScopes('identity:admin')
  async get(
    @Payload() raw: unknown,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'tokens.revocation-jobs.get'>> {
    const req = parse(LEAST_PRIVILEGE_BUS_SCHEMAS['tokens.revocation-jobs.get'], raw);
    const job = await this.store.get(ctx.getPrincipal().orgId, req.id);
    if (!job) throw new BusException('NOT_FOUND', 'revocation job not found');
    return job;
  }
}
