import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { principalFromClaims } from '@broker/contracts';
import { BusUnavailableError } from '@broker/bus';
import {
  AccessTokenVerifier,
  InvalidAccessTokenError,
  RevocationStateUnavailableError,
} from '@broker/auth-kit';
import type { AuthenticatedCaller } from './authenticated-caller';

/** Passport bearer strategy: the token must be one of the broker's own, verified against its JWKS. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly verifier: AccessTokenVerifier) {
    super();
  }

  async validate(token: string): Promise<AuthenticatedCaller | false> {
    try {
      return { principal: principalFromClaims(await this.verifier.verify(token)), token };
    } catch (err) {
      if (err instanceof InvalidAccessTokenError) return false;
      // Fail closed, as a 503 in the surface's shape: whether the token was revoked cannot be told right now.
      if (err instanceof RevocationStateUnavailableError)
        throw new BusUnavailableError('identity.revocations', err.message);
      throw err;
    }
  }
}
