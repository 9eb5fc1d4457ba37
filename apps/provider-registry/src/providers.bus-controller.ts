import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BusException } from '@broker/bus';
import { BusReply, ListProvidersRequest, MessagePatterns } from '@broker/contracts';
import { ProvidersService } from '@broker/registry';

/** Bus handlers of the providers resource. */
@Controller()
export class ProvidersBusController {
  constructor(private readonly providers: ProvidersService) {}

  @MessagePattern(MessagePatterns.providers.list)
  async list(@Payload() request: ListProvidersRequest): Promise<BusReply<'providers.list'>> {
    if (typeof request?.orgId !== 'string' || !request.orgId) throw new BusException('BAD_REQUEST', 'orgId is required');
    return { data: await this.providers.list(request.orgId, request.query ?? {}) };
  }
}
