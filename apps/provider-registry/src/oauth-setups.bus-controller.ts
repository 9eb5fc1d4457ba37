import { Controller, Logger, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import { BusContext, BusException, JobProducer } from '@broker/bus';
import {
  BusReply,
  CreateOAuthSetupRequest,
  MessagePatterns,
  Principal,
  SetupOutcome,
  createOAuthSetupSchema,
  listOAuthSetupsBusQuerySchema,
  schemaProblems,
  updateOAuthSetupSchema,
} from '@broker/contracts';
import { BusAuthGuard, RequireScopes, isServiceAccount, textField } from '@broker/identity';
import { OAuthSetupsService, RecordedDelivery, SetupCaller } from '@broker/registry';

const caller = (p: Principal): SetupCaller => ({
  orgId: p.orgId,
  sub: p.sub,
  isService: isServiceAccount(p),
});

/** Parses a bus payload with a contract schema: problems are UNPROCESSABLE (the gateway checked already; others may not have). */
function parse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  code: 'UNPROCESSABLE' | 'BAD_REQUEST' = 'UNPROCESSABLE',
): z.output<T> {
  const parsed = schema.safeParse(value ?? undefined);
  if (!parsed.success) throw new BusException(code, 'Invalid request.', schemaProblems(parsed.error));
  return parsed.data;
}

const outcomeSchema = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('completed'), authorizationId: z.uuid() }),
  z.strictObject({ outcome: z.literal('failed'), error: z.string().min(1).max(200) }),
]);

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
 * token-broker's (an internal scope no client is ever granted).
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
  list(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'oauth-setups.list'>> {
    const query = parse(
      listOAuthSetupsBusQuerySchema,
      (req as { query?: unknown } | null)?.query ?? {},
      'BAD_REQUEST',
    );
    return this.setups.list(caller(ctx.getPrincipal()), textField(req, 'deploymentId') ?? '', query);
  }

  @MessagePattern(MessagePatterns.oauthSetups.get)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:read')
  get(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'oauth-setups.get'>> {
    return this.setups.get(
      caller(ctx.getPrincipal()),
      textField(req, 'deploymentId') ?? '',
      textField(req, 'id') ?? '',
    );
  }

  @MessagePattern(MessagePatterns.oauthSetups.create)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:write')
  create(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'oauth-setups.create'>> {
    const body = parse(
      createOAuthSetupSchema,
      (req as { body?: unknown } | null)?.body,
    ) as CreateOAuthSetupRequest;
    return this.setups.create(caller(ctx.getPrincipal()), textField(req, 'deploymentId') ?? '', body);
  }

  @MessagePattern(MessagePatterns.oauthSetups.update)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:write')
  update(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'oauth-setups.update'>> {
    const changes = parse(updateOAuthSetupSchema, (req as { changes?: unknown } | null)?.changes);
    return this.setups.update(
      caller(ctx.getPrincipal()),
      textField(req, 'deploymentId') ?? '',
      textField(req, 'id') ?? '',
      changes,
    );
  }

  /** A browser opened the hosted link (via the token-broker, which starts the consent). */
  @MessagePattern(MessagePatterns.oauthSetups.open)
  open(@Payload() req: unknown): Promise<BusReply<'oauth-setups.open'>> {
    return this.setups.open(textField(req, 'linkToken') ?? '');
  }

  @MessagePattern(MessagePatterns.oauthSetups.finish)
  @UseGuards(BusAuthGuard)
  @RequireScopes('setups:finish')
  async finish(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'oauth-setups.finish'>> {
    const result = parse(outcomeSchema, (req as { result?: unknown } | null)?.result) as SetupOutcome;
    const done = await this.setups.finish(ctx.getPrincipal().orgId, textField(req, 'setupId') ?? '', result);
    await queueDeliveries(this.producer, done.deliveries, this.logger);
    return { setupId: done.setupId, status: done.status, redirectUrl: done.redirectUrl };
  }
}
