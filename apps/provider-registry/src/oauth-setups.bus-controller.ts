import { Controller, Logger, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, JobProducer } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns, Principal } from '@broker/contracts';
import { BusAuthGuard, RequireScopes, isServiceAccount } from '@broker/auth-kit';
import { OAuthSetupsService, RecordedDelivery, SetupCaller } from '@broker/registry';

const caller = (p: Principal): SetupCaller => ({
  orgId: p.orgId,
  sub: p.sub,
  isService: isServiceAccount(p),
});

/** Queues recorded webhook deliveries after their transaction committed (the setup sweep re-queues any lost here). */
export async function queueDeliveries(
  producer: JobProducer,
  deliveries: RecordedDelivery[],
  logger: Logger,
): Promise<void> {
  for (const d of deliveries) {
    await producer
      .enqueue(
        'webhook-delivery',
        'DELIVER_WEBHOOK',
        { orgId: d.orgId, deliveryId: d.deliveryId },
        { jobId: `${d.deliveryId}-0` },
      )
      .catch((err: Error) =>
        logger.warn(`delivery ${d.deliveryId} not queued yet (${err.message}); the sweep will queue it`),
      );
  }
}

/**
 * Seed 002 OAuth setups of the org's deployments. The org and user are the verified caller's; the
 * hosted link (`open`) needs no caller token (holding the link is the proof), and `finish` is the
 * token-broker's (an internal scope no client is ever granted). Payloads arrive checked against
 * their contract schemas (the same the gateway answers 400/422 with) by the bus's payload pipe.
 */
@Controller()
export class OAuthSetupsBusController {
  private readonly logger = new Logger('OAuthSetups');

  constructor(
    private readonly setups: OAuthSetupsService,
    private readonly producer: JobProducer,
  ) {}

  @MessagePattern(MessagePatterns.oauthSetups.list)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:read')
  list(
    @Payload() req: BusRequest<'oauth-setups.list'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'oauth-setups.list'>> {
    return this.setups.list(caller(ctx.getPrincipal()), req.deploymentId, req.query);
  }

  @MessagePattern(MessagePatterns.oauthSetups.get)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:read')
  get(
    @Payload() req: BusRequest<'oauth-setups.get'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'oauth-setups.get'>> {
    return this.setups.get(caller(ctx.getPrincipal()), req.deploymentId, req.id);
  }

  @MessagePattern(MessagePatterns.oauthSetups.create)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:write')
  create(
    @Payload() req: BusRequest<'oauth-setups.create'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'oauth-setups.create'>> {
    return this.setups.create(caller(ctx.getPrincipal()), req.deploymentId, req.body);
  }

  @MessagePattern(MessagePatterns.oauthSetups.update)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:write')
  update(
    @Payload() req: BusRequest<'oauth-setups.update'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'oauth-setups.update'>> {
    return this.setups.update(caller(ctx.getPrincipal()), req.deploymentId, req.id, req.changes);
  }

  /** A browser opened the hosted link (via the token-broker, which starts the consent). */
  @MessagePattern(MessagePatterns.oauthSetups.open)
  open(@Payload() req: BusRequest<'oauth-setups.open'>): Promise<BusReply<'oauth-setups.open'>> {
    return this.setups.open(req.linkToken);
  }

  @MessagePattern(MessagePatterns.oauthSetups.finish)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:finish')
  async finish(
    @Payload() req: BusRequest<'oauth-setups.finish'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'oauth-setups.finish'>> {
    const done = await this.setups.finish(ctx.getPrincipal().orgId, req.setupId, req.result);
    await queueDeliveries(this.producer, done.deliveries, this.logger);
    return { setupId: done.setupId, status: done.status, redirectUrl: done.redirectUrl };
  }
}
