import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { z } from 'zod';
import { BusClientProxy } from '@broker/bus';
import {
  CreateWebhookEndpointRequest,
  CreatedWebhookEndpoint,
  WebhookDelivery,
  WebhookEndpoint,
  createWebhookEndpointSchema,
  updateWebhookEndpointSchema,
} from '@broker/contracts';
import { RequireScopes } from '@broker/auth-kit';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ScopesGuard } from '../auth/scopes.guard';
import { parseWith, pathId } from './oauth-setups.controller';

type Authed = { user: AuthenticatedCaller };

const deliveriesQuery = z.strictObject({
  limit: z
    .string({ message: 'must be given once' })
    .regex(/^\d{1,3}$/, { message: 'must be a whole number from 1 to 100' })
    .transform(Number)
    .refine((n) => n >= 1 && n <= 100, { message: 'must be a whole number from 1 to 100' })
    .optional(),
  after: z.uuid({ message: 'must be a delivery id' }).optional(),
});

/**
 * The org's webhook endpoints: signed deliveries (Standard Webhooks) of the broker's events. The
 * signing secret is in the answer to create and to rotate-secret only.
 */
@Controller('api/v2/webhook-endpoints')
@UseGuards(BearerAuthGuard, ScopesGuard)
export class WebhooksController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get()
  @RequireScopes('webhooks:read')
  list(@Req() req: Authed): Promise<{ items: WebhookEndpoint[] }> {
    return this.bus.request('webhooks.list', {}, { auth: req.user.token });
  }

  @Post()
  @HttpCode(201)
  @RequireScopes('webhooks:write')
  create(@Body() body: unknown, @Req() req: Authed): Promise<CreatedWebhookEndpoint> {
    const parsed = parseWith(
      createWebhookEndpointSchema,
      body,
      422,
      'Invalid webhook endpoint.',
    ) as CreateWebhookEndpointRequest;
    return this.bus.request('webhooks.create', parsed, { auth: req.user.token });
  }

  @Get(':id')
  @RequireScopes('webhooks:read')
  get(@Param('id') id: string, @Req() req: Authed): Promise<WebhookEndpoint> {
    return this.bus.request('webhooks.get', { id: pathId(id, 'Webhook endpoint') }, { auth: req.user.token });
  }

  @Patch(':id')
  @RequireScopes('webhooks:write')
  update(@Param('id') id: string, @Body() body: unknown, @Req() req: Authed): Promise<WebhookEndpoint> {
    const endpointId = pathId(id, 'Webhook endpoint');
    return this.bus.request(
      'webhooks.update',
      {
        id: endpointId,
        changes: parseWith(updateWebhookEndpointSchema, body, 422, 'Invalid webhook endpoint update.'),
      },
      { auth: req.user.token },
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScopes('webhooks:write')
  async remove(@Param('id') id: string, @Req() req: Authed): Promise<void> {
    await this.bus.request(
      'webhooks.delete',
      { id: pathId(id, 'Webhook endpoint') },
      { auth: req.user.token },
    );
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @RequireScopes('webhooks:write')
  rotate(@Param('id') id: string, @Req() req: Authed): Promise<CreatedWebhookEndpoint> {
    return this.bus.request(
      'webhooks.rotate-secret',
      { id: pathId(id, 'Webhook endpoint') },
      { auth: req.user.token },
    );
  }

  /** The delivery log, newest first (`after`: the last delivery id of the previous page). */
  @Get(':id/deliveries')
  @RequireScopes('webhooks:read')
  deliveries(
    @Param('id') id: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Authed,
  ): Promise<{ items: WebhookDelivery[] }> {
    const endpointId = pathId(id, 'Webhook endpoint');
    const q = parseWith(deliveriesQuery, query, 400, 'Invalid query parameters.');
    return this.bus.request('webhooks.deliveries', { id: endpointId, ...q }, { auth: req.user.token });
  }
}
