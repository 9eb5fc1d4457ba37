import { CanActivate, ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { principalFromClaims } from '@broker/contracts';
import { BusUnavailableError } from '@broker/bus';
import {
  AccessTokenVerifier,
  InvalidAccessTokenError,
  RevocationStateUnavailableError,
} from '@broker/auth-kit';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';

/** A FastAPI-style `{detail}` error of the `/api/v1/oauth` surface (seed 003). */
export class DetailHttpError extends HttpException {
  constructor(
    status: number,
    detail: string,
    readonly challenge?: string,
  ) {
    super({ detail }, status);
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/**
 * Seed 003 accepts the caller's token as `Authorization: Bearer`, a `refreshed-token` header, or a
 * `token` cookie. A cookie is sent by browsers on cross-site requests too, so a cookie-authenticated
 * request must also carry `X-Requested-With` (a header a cross-site form cannot set and a
 * cross-origin script cannot send without a CORS preflight this server never approves).
 */
@Injectable()
export class PrincipalAuthGuard implements CanActivate {
  constructor(private readonly verifier: AccessTokenVerifier) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedCaller }>();
    const auth = req.headers.authorization;
    let token = auth && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    const refreshed = req.headers['refreshed-token'];
    token ??=
      typeof refreshed === 'string' && refreshed ? refreshed.replace(/^bearer /i, '').trim() : undefined;
    if (!token) {
      const cookie = cookieValue(req.headers.cookie, 'token');
      if (cookie) {
        if (!req.headers['x-requested-with']) {
          throw new DetailHttpError(403, 'cookie authentication requires the X-Requested-With header');
        }
        token = cookie;
      }
    }
    if (!token) throw new DetailHttpError(401, 'Not authenticated', 'Bearer realm="oauth-broker"');
    try {
      req.user = { principal: principalFromClaims(await this.verifier.verify(token)), token };
    } catch (err) {
      if (err instanceof InvalidAccessTokenError) {
        throw new DetailHttpError(
          401,
          'Invalid or expired token',
          'Bearer realm="oauth-broker", error="invalid_token"',
        );
      }
      // Fail closed, as a 503: whether the token was revoked cannot be told right now.
      if (err instanceof RevocationStateUnavailableError)
        throw new BusUnavailableError('identity.revocations', err.message);
      throw err;
    }
    return true;
  }
}
