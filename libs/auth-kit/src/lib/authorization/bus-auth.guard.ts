import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { BusContext, BusException } from '@broker/bus';
import { Principal, principalFromClaims } from '@broker/contracts';
import { AccessTokenVerifier, InvalidAccessTokenError } from '../access-token-verifier';
import { RevocationStateUnavailableError } from '../revocation/revocation-list';
import { REQUIRED_SCOPES } from './require-scopes.decorator';

/**
 * Verifies the caller's token carried by every bus request and puts the principal on the context;
 * the handler takes the org and user from there, never from the payload.
 */
@Injectable()
export class BusAuthGuard implements CanActivate {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const ctx = context.switchToRpc().getContext<BusContext>();
    const token = ctx.getAuth();
    if (!token) throw new BusException('UNAUTHENTICATED', 'this request needs the caller’s access token');
    let principal: Principal;
    try {
      principal = principalFromClaims(await this.verifier.verify(token));
    } catch (err) {
      if (err instanceof InvalidAccessTokenError)
        throw new BusException('UNAUTHENTICATED', `access token refused: ${err.message}`);
      // Fail closed: a token is never accepted on a revocation list older than the bound.
      if (err instanceof RevocationStateUnavailableError) throw new BusException('UNAVAILABLE', err.message);
      throw err;
    }
    const required =
      this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [];
    const missing = required.filter((s) => !principal.scopes.includes(s));
    if (missing.length) throw new BusException('FORBIDDEN', `missing scope: ${missing.join(' ')}`);
    ctx.setPrincipal(principal);
    return true;
  }
}
