import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { BearerStrategy } from '../auth/bearer.strategy';
import { BearerChallengeError } from '../external-oauth/external-oauth-error.filter';
import { ExternalAuthHttpError } from './external-auth-error.filter';

/** Coder's session header and cookie (seed 001's examples and Coder's own clients send these). */
export const CODER_SESSION_HEADER = 'coder-session-token';
export const CODER_SESSION_COOKIE = 'coder_session_token';

const CHALLENGE = 'Bearer realm="oauth-broker"';

/** A cookie's value from a `Cookie` header (undefined when absent or badly encoded). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Authentication of the external-auth surface: the broker's own access token, as a stock Coder
 * client sends its session token: `Authorization: Bearer`, the `Coder-Session-Token` header, or the
 * `coder_session_token` cookie. Browsers send a cookie on cross-site requests too, so a
 * cookie-authenticated request must also carry `X-Requested-With` (a header a cross-site form
 * cannot set and a cross-origin script cannot send without a CORS preflight this server never
 * approves), the rule of the `token` cookie on `/api/v1/oauth`. 401 (with a challenge) without a
 * valid token; the scope check follows (ScopesGuard).
 */
@Injectable()
export class ExternalAuthGuard implements CanActivate {
  /** The same check as every other `/api/v2` route (the bearer strategy), whatever carried the token. */
  constructor(private readonly bearer: BearerStrategy) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthenticatedCaller }>();
    const token = this.tokenOf(req);
    if (!token)
      throw new BearerChallengeError(
        401,
        'A valid bearer token or Coder-Session-Token is required.',
        CHALLENGE,
      );
    const caller = await this.bearer.validate(token);
    if (!caller)
      throw new BearerChallengeError(
        401,
        'The session token is invalid or expired.',
        `${CHALLENGE}, error="invalid_token"`,
      );
    req.user = caller;
    return true;
  }

  private tokenOf(req: FastifyRequest): string | undefined {
    const auth = req.headers.authorization;
    if (auth && /^bearer /i.test(auth)) return auth.slice(7).trim() || undefined;
    const header = req.headers[CODER_SESSION_HEADER];
    if (typeof header === 'string' && header.trim()) return header.trim();
    const cookie = cookieValue(req.headers.cookie, CODER_SESSION_COOKIE);
    if (!cookie) return undefined;
    if (!req.headers['x-requested-with']) {
      throw new ExternalAuthHttpError(403, {
        message: 'Cookie authentication requires the X-Requested-With header.',
        detail: 'cross-site request protection',
      });
    }
    return cookie;
  }
}
