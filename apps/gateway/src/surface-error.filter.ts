import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EXTERNAL_AUTH_PATH, ExternalAuthErrorFilter } from './external-auth/external-auth-error.filter';
import { ExternalOAuthErrorFilter } from './external-oauth/external-oauth-error.filter';
import { OAuthErrorFilter } from './oauth/oauth-error.filter';
import { OAuthSetupsErrorFilter } from './oauth-setups/oauth-setups-error.filter';
import { RefusedRequest, pathOf } from './http/request-hygiene';
import { OAUTH_SETUPS_PATHS, refuse, surfaceOf } from './http/surfaces';

/** The broker's own OAuth endpoints (seed 003): FastAPI-style `{detail}` errors. */
const OAUTH_PATH = '/api/v1/oauth';

/**
 * The gateway's one global filter: each API surface answers in its own documented error shape,
 * chosen by path, so errors raised before routing (a body that is not JSON, an unknown sub-path)
 * get it too. `/api/v2/external-auth` (seed 001) → codersdk.Response; `/api/v1/oauth` (seed 003) →
 * `{detail}`; everything else → seed 000.
 */
@Catch()
export class SurfaceErrorFilter implements ExceptionFilter {
  private readonly externalOAuth = new ExternalOAuthErrorFilter();
  private readonly externalAuth = new ExternalAuthErrorFilter();
  private readonly oauth = new OAuthErrorFilter();
  private readonly setups = new OAuthSetupsErrorFilter();

  catch(error: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const path = pathOf(request.url);
    // A body that could not be read (too large, an unknown encoding...): the refusal of its surface.
    if (error instanceof RefusedRequest) {
      const reply = host.switchToHttp().getResponse<FastifyReply>();
      return refuse(reply, surfaceOf(request.method, path), error.status, error.message, error.where);
    }
    const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
    if (under(EXTERNAL_AUTH_PATH)) this.externalAuth.catch(error, host);
    else if (under(OAUTH_PATH)) this.oauth.catch(error, host);
    else if (OAUTH_SETUPS_PATHS.some(under)) this.setups.catch(error, host);
    else this.externalOAuth.catch(error, host);
  }
}
