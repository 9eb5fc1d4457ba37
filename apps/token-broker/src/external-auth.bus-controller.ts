import { Controller, UseFilters, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard, RequireScopes } from '@broker/auth-kit';
import { DeviceFlowService, ExternalAuthService } from '@broker/tokens';
import { TokensErrorFilter } from './tokens-error.filter';

/** Seed 001's external-auth surface: the caller's own links only (another user's or org's are NOT_FOUND). */
@Controller()
@UseGuards(BusAuthGuard)
@UseFilters(TokensErrorFilter)
export class ExternalAuthBusController {
  constructor(
    private readonly externalAuth: ExternalAuthService,
    private readonly deviceFlow: DeviceFlowService,
  ) {}

  @MessagePattern(MessagePatterns.externalAuth.list)
  @RequireScopes('authorizations:read')
  list(@Ctx() ctx: BusContext): Promise<BusReply<'external-auth.list'>> {
    const p = ctx.getPrincipal();
    return this.externalAuth.list(p.orgId, p.sub);
  }

  @MessagePattern(MessagePatterns.externalAuth.get)
  @RequireScopes('authorizations:read')
  get(
    @Payload() req: BusRequest<'external-auth.get'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'external-auth.get'>> {
    const p = ctx.getPrincipal();
    return this.externalAuth.get(p.orgId, p.sub, req.providerId);
  }

  @MessagePattern(MessagePatterns.externalAuth.delete)
  @RequireScopes('authorizations:write')
  remove(
    @Payload() req: BusRequest<'external-auth.delete'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'external-auth.delete'>> {
    const p = ctx.getPrincipal();
    return this.externalAuth.unlink(p.orgId, p.sub, req.providerId);
  }

  @MessagePattern(MessagePatterns.externalAuth.deviceStart)
  @RequireScopes('authorizations:write')
  deviceStart(
    @Payload() req: BusRequest<'external-auth.device-start'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'external-auth.device-start'>> {
    const p = ctx.getPrincipal();
    return this.deviceFlow.start(p.orgId, p.sub, req.providerId);
  }

  @MessagePattern(MessagePatterns.externalAuth.deviceExchange)
  @RequireScopes('authorizations:write')
  async deviceExchange(
    @Payload() req: BusRequest<'external-auth.device-exchange'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'external-auth.device-exchange'>> {
    const p = ctx.getPrincipal();
    const deviceCode = req.deviceCode;
    if (!deviceCode)
      throw new BusException('BAD_REQUEST', 'device_code is required', [
        { name: 'device_code', message: 'must be a non-empty string' },
      ]);
    return this.deviceFlow.exchange(p.orgId, p.sub, req.providerId, deviceCode);
  }
}
