import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BusException } from '@broker/bus';
import {
  AuthorizeRequest,
  BusReply,
  BusRequest,
  CompleteAuthorizationRequest,
  MessagePatterns,
} from '@broker/contracts';
import { RevocationStateUnavailableError, RevocationSync } from '@broker/auth-kit';
import {
  AuthorizationEndpoint,
  OAuthError,
  SigningKeysService,
  TokenEndpoint,
  TokenStatusEndpoints,
  snapshotFor,
} from '@broker/identity';

type OAuthFailure = { ok: false; error: { error: string; error_description: string; status: number } };

/** Bus handlers of the broker's own OAuth server. */
@Controller()
export class IdentityBusController {
  constructor(
    private readonly tokens: TokenEndpoint,
    private readonly keys: SigningKeysService,
    private readonly authorization: AuthorizationEndpoint,
    private readonly status: TokenStatusEndpoints,
    private readonly revocations: RevocationSync,
  ) {}

  @MessagePattern(MessagePatterns.identity.token)
  async token(@Payload() request: BusRequest<'identity.token'>): Promise<BusReply<'identity.token'>> {
    try {
      return { ok: true, token: await this.tokens.handle(request) };
    } catch (err) {
      return oauthFailure(err);
    }
  }

  @MessagePattern(MessagePatterns.identity.jwks)
  async jwks(): Promise<BusReply<'identity.jwks'>> {
    return (await this.keys.jwks()) as BusReply<'identity.jwks'>;
  }

  /**
   * The live revocations, for the verifiers of the other services. Served from this replica's
   * list (read from PostgreSQL every second); its age travels with it, so a caller never trusts a
   * list older than its bound.
   */
  @MessagePattern(MessagePatterns.identity.revocations)
  async revocationList(
    @Payload() request: BusRequest<'identity.revocations'>,
  ): Promise<BusReply<'identity.revocations'>> {
    if (this.revocations.list.ageMs() > this.revocations.options.pollMs)
      await this.revocations.refresh().catch(() => undefined);
    return snapshotFor(this.revocations.list, request.version);
  }

  /** RFC 7009. */
  @MessagePattern(MessagePatterns.identity.revoke)
  async revoke(@Payload() request: BusRequest<'identity.revoke'>): Promise<BusReply<'identity.revoke'>> {
    try {
      await this.status.revoke(request);
      return { ok: true };
    } catch (err) {
      return oauthFailure(err);
    }
  }

  /** RFC 7662. */
  @MessagePattern(MessagePatterns.identity.introspect)
  async introspect(
    @Payload() request: BusRequest<'identity.introspect'>,
  ): Promise<BusReply<'identity.introspect'>> {
    try {
      return { ok: true, introspection: await this.status.introspect(request) };
    } catch (err) {
      return oauthFailure(err);
    }
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
  authorizeComplete(
    @Payload() request: CompleteAuthorizationRequest,
  ): Promise<BusReply<'identity.authorize-complete'>> {
    return this.authorization.complete(request);
  }
}

/** An OAuth error as the handler's answer; an unreadable revocation list as a bus error (503). */
function oauthFailure(err: unknown): OAuthFailure {
  if (err instanceof OAuthError)
    return { ok: false, error: { error: err.error, error_description: err.description, status: err.status } };
  if (err instanceof RevocationStateUnavailableError) throw new BusException('UNAVAILABLE', err.message);
  throw err;
}
