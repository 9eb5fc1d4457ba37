import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BusReply, MessagePatterns, TokenRequest } from '@broker/contracts';
import { OAuthError, SigningKeysService, TokenEndpoint } from '@broker/identity';

/** Bus handlers of the broker's own OAuth server. */
@Controller()
export class IdentityBusController {
  constructor(
    private readonly tokens: TokenEndpoint,
    private readonly keys: SigningKeysService,
  ) {}

  @MessagePattern(MessagePatterns.identity.token)
  async token(@Payload() request: TokenRequest): Promise<BusReply<'identity.token'>> {
    try {
      return { ok: true, token: await this.tokens.handle(request ?? {}) };
    } catch (err) {
      if (err instanceof OAuthError) return { ok: false, error: { error: err.error, error_description: err.description, status: err.status } };
      throw err;
    }
  }

  @MessagePattern(MessagePatterns.identity.jwks)
  async jwks(): Promise<BusReply<'identity.jwks'>> {
    return (await this.keys.jwks()) as BusReply<'identity.jwks'>;
  }
}
