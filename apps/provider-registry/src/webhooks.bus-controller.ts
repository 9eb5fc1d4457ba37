import { Controller, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard, RequireScopes } from '@broker/auth-kit';
import { WebhooksService } from '@broker/registry';

/**
 * The org's webhook endpoints (the secret is answered on create and rotate only) and their delivery
 * log. Payloads arrive checked against their contract schemas by the bus's payload pipe.
 */
@Controller()
@UseGuards(BusAuthGuard)
export class WebhooksBusController {
  constructor(private readonly webhooks: WebhooksService) {}

  @MessagePattern(MessagePatterns.webhooks.list)
  @RequireScopes('webhooks:read')
  async list(@Ctx() ctx: BusContext): Promise<BusReply<'webhooks.list'>> {
    return { items: await this.webhooks.list(ctx.getPrincipal().orgId) };
  }

  @MessagePattern(MessagePatterns.webhooks.get)
  @RequireScopes('webhooks:read')
  get(@Payload() req: BusRequest<'webhooks.get'>, @Ctx() ctx: BusContext): Promise<BusReply<'webhooks.get'>> {
    return this.webhooks.get(ctx.getPrincipal().orgId, req.id);
  }

  @MessagePattern(MessagePatterns.webhooks.create)
  @RequireScopes('webhooks:write')
  create(
    @Payload() req: BusRequest<'webhooks.create'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'webhooks.create'>> {
    return this.webhooks.create(ctx.getPrincipal().orgId, req);
  }

  @MessagePattern(MessagePatterns.webhooks.update)
  @RequireScopes('webhooks:write')
  update(
    @Payload() req: BusRequest<'webhooks.update'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'webhooks.update'>> {
    return this.webhooks.update(ctx.getPrincipal().orgId, req.id, req.changes);
  }

  @MessagePattern(MessagePatterns.webhooks.delete)
  @RequireScopes('webhooks:write')
  async delete(
    @Payload() req: BusRequest<'webhooks.delete'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'webhooks.delete'>> {
    await this.webhooks.remove(ctx.getPrincipal().orgId, req.id);
    return { deleted: true };
  }

  @MessagePattern(MessagePatterns.webhooks.rotateSecret)
  @RequireScopes('webhooks:write')
  rotate(
    @Payload() req: BusRequest<'webhooks.rotate-secret'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'webhooks.rotate-secret'>> {
    return this.webhooks.rotateSecret(ctx.getPrincipal().orgId, req.id);
  }

  @MessagePattern(MessagePatterns.webhooks.deliveries)
  @RequireScopes('webhooks:read')
  async deliveries(
    @Payload() req: BusRequest<'webhooks.deliveries'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'webhooks.deliveries'>> {
    return {
      items: await this.webhooks.deliveries(ctx.getPrincipal().orgId, req.id, req.limit ?? 50, req.after),
    };
  }
}
