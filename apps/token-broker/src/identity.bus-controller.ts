import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AuthorizeRequest, BusReply, CompleteAuthorizationRequest, MessagePatterns, TokenRequest } from '@broker/contracts';
import { AuthorizationEndpoint, OAuthError, SigningKeysService, TokenEndpoint } from '@broker/identity';

/** Bus handlers of the broker's own OAuth server. */
@Controller()
export class IdentityBusController {
  constructor(
    private readonly tokens: TokenEndpoint,
    private readonly keys: SigningKeysService,
    private readonly authorization: AuthorizationEndpoint,
  ) {}

  @MessagePattern(MessagePatterns.identity.token)
  async token(@Payload() request: TokenRequest): Promise<BusReply<'identity.token'>> {
    try {
      return { ok: true, token: await this.tokens.handle(request) };
    } catch (err) {
      if (err instanceof OAuthError) return { ok: false, error: { error: err.error, error_description: err.description, status: err.status } };
      throw err;
    }
  }

  @MessagePattern(MessagePatterns.identity.jwks)
  async jwks(): Promise<BusReply<'identity.jwks'>> {
    return (await this.keys.jwks()) as BusReply<'identity.jwks'>;
  }

  /** Checks an authorization request before the browser is sent to the upstream sign-in. */
  @MessagePattern(MessagePatterns.identity.authorize)
  authorize(@Payload() request: AuthorizeRequest): Promise<BusReply<'identity.authorize'>> {
    return this.authorization.check(request);
  }

  /**
   * Ends a sign-in: the person is read from the upstream userinfo endpoint with the upstream access
   * token (the caller's word is not taken for who signed in) and a code is issued.
   */
  @MessagePattern(MessagePatterns.identity.authorizeComplete)
  authorizeComplete(@Payload() request: CompleteAuthorizationRequest): Promise<BusReply<'identity.authorize-complete'>> {
    return this.authorization.complete(request);
  }
}
