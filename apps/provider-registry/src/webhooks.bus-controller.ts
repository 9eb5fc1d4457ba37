import { Controller, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import { BusContext, BusException } from '@broker/bus';
import {
  BusReply,
  CreateWebhookEndpointRequest,
  MessagePatterns,
  createWebhookEndpointSchema,
  schemaProblems,
  updateWebhookEndpointSchema,
} from '@broker/contracts';
import { BusAuthGuard, RequireScopes, textField } from '@broker/identity';
import { WebhooksService } from '@broker/registry';

function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value ?? undefined);
  if (!parsed.success)
    throw new BusException('UNPROCESSABLE', 'Invalid request.', schemaProblems(parsed.error));
  return parsed.data;
}

/** The org's webhook endpoints (the secret is answered on create and rotate only) and their delivery log. */
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
  get(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'webhooks.get'>> {
    return this.webhooks.get(ctx.getPrincipal().orgId, textField(req, 'id') ?? '');
  }

  @MessagePattern(MessagePatterns.webhooks.create)
  @RequireScopes('webhooks:write')
  create(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'webhooks.create'>> {
    return this.webhooks.create(
      ctx.getPrincipal().orgId,
      parse(createWebhookEndpointSchema, req) as CreateWebhookEndpointRequest,
    );
  }

  @MessagePattern(MessagePatterns.webhooks.update)
  @RequireScopes('webhooks:write')
  update(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'webhooks.update'>> {
    return this.webhooks.update(
      ctx.getPrincipal().orgId,
      textField(req, 'id') ?? '',
      parse(updateWebhookEndpointSchema, (req as { changes?: unknown } | null)?.changes),
    );
  }

  @MessagePattern(MessagePatterns.webhooks.delete)
  @RequireScopes('webhooks:write')
  async delete(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'webhooks.delete'>> {
    await this.webhooks.remove(ctx.getPrincipal().orgId, textField(req, 'id') ?? '');
    return { deleted: true };
  }

  @MessagePattern(MessagePatterns.webhooks.rotateSecret)
  @RequireScopes('webhooks:write')
  rotate(@Payload() req: unknown, @Ctx() ctx: BusContext): Promise<BusReply<'webhooks.rotate-secret'>> {
    return this.webhooks.rotateSecret(ctx.getPrincipal().orgId, textField(req, 'id') ?? '');
  }

  @MessagePattern(MessagePatterns.webhooks.deliveries)
  @RequireScopes('webhooks:read')
  async deliveries(
    @Payload() req: unknown,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'webhooks.deliveries'>> {
    const limit = (req as { limit?: unknown } | null)?.limit;
    return {
      items: await this.webhooks.deliveries(
        ctx.getPrincipal().orgId,
        textField(req, 'id') ?? '',
        typeof limit === 'number' ? limit : 50,
        textField(req, 'after'),
      ),
    };
  }
}
