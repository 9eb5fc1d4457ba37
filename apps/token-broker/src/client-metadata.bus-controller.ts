import { Controller, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard, RequireScopes } from '@broker/auth-kit';
import { ClientMetadataSettings, ClientMetadataSettingsError } from '@broker/identity';

/** Whether the caller's org accepts clients identified by URL (client ID metadata documents), and which. */
@Controller()
@UseGuards(BusAuthGuard)
export class ClientMetadataBusController {
  constructor(private readonly settings: ClientMetadataSettings) {}

  @MessagePattern(MessagePatterns.identity.clientMetadataSettingsGet)
  @RequireScopes('identity:admin')
  async get(@Ctx() ctx: BusContext): Promise<BusReply<'identity.client-metadata-settings.get'>> {
    const found = await this.settings.get(ctx.getPrincipal().orgId);
    if (!found) throw new BusException('NOT_FOUND', 'org not found');
    return found;
  }

  @MessagePattern(MessagePatterns.identity.clientMetadataSettingsSet)
  @RequireScopes('identity:admin')
  async set(
    @Payload() req: BusRequest<'identity.client-metadata-settings.set'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'identity.client-metadata-settings.set'>> {
    try {
      const saved = await this.settings.set(ctx.getPrincipal().orgId, req);
      if (!saved) throw new BusException('NOT_FOUND', 'org not found');
      return saved;
    } catch (err) {
      if (err instanceof ClientMetadataSettingsError)
        throw new BusException('UNPROCESSABLE', err.message, [{ name: 'body', message: err.message }]);
      throw err;
    }
  }
}

/** What the broker's authorization server supports now, for its public metadata (no caller token). */
@Controller()
export class AuthorizationServerFeaturesBusController {
  constructor(private readonly settings: ClientMetadataSettings) {}

  @MessagePattern(MessagePatterns.identity.serverFeatures)
  async features(): Promise<BusReply<'identity.server-features'>> {
    return { clientIdMetadataDocuments: await this.settings.anyEnabled() };
  }
}
