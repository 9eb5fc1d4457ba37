import { Inject, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { protectedResourceMetadataUrl } from '../oauth/protected-resource.controller';
import { BearerChallengeError } from '../external-oauth/external-oauth-error.filter';
import type { AuthenticatedCaller } from './authenticated-caller';

/** Requires a valid bearer token; 401 with a `WWW-Authenticate: Bearer` challenge otherwise. */
@Injectable()
export class BearerAuthGuard extends AuthGuard('bearer') {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {
    super();
  }

  override handleRequest<T = AuthenticatedCaller>(err: unknown, user: T | false): T {
    if (err) throw err;
    if (!user) throw bearerRequired(this.config.publicUrl);
    return user;
  }
}

/** The 401 of a request without a valid bearer token, with its RFC 6750 / RFC 9728 challenge. */
export function bearerRequired(publicUrl: string): BearerChallengeError {
  return new BearerChallengeError(
    401,
    'A valid bearer token is required.',
    `Bearer realm="oauth-broker", error="invalid_token", resource_metadata="${protectedResourceMetadataUrl(publicUrl)}"`,
  );
}

/**
 * The bearer token of a request read exactly as passport-http-bearer reads it, when the request is
 * the plain case: one `Authorization: Bearer <token>` header and no `access_token` in the body or
 * the query. Anything else (no header, a malformed one, a token given twice) is undefined: such a
 * request takes the full guard, which answers it.
 */
export function plainBearerToken(req: {
  headers: { authorization?: string };
  body?: unknown;
  query?: unknown;
}): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const parts = header.split(' ');
  if (parts.length !== 2 || !/^Bearer$/i.test(parts[0] as string) || !parts[1]) return undefined;
  if (
    (req.body as { access_token?: unknown } | undefined)?.access_token ||
    (req.query as { access_token?: unknown } | undefined)?.access_token
  )
    return undefined;
  return parts[1];
}
