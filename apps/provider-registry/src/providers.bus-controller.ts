import { Controller, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard, RequireScopes } from '@broker/identity';
import { ProvidersService } from '@broker/registry';

/** Bus handlers of the providers resource; the org is the verified caller's. */
@Controller()
@UseGuards(BusAuthGuard)
export class ProvidersBusController {
  constructor(private readonly providers: ProvidersService) {}

  @MessagePattern(MessagePatterns.providers.list)
  @RequireScopes('providers:read')
  async list(@Payload() query: BusRequest<'providers.list'>, @Ctx() ctx: BusContext): Promise<BusReply<'providers.list'>> {
    return { data: await this.providers.list(ctx.getPrincipal().orgId, query ?? {}) };
  }
}
