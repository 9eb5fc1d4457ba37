import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Request } from 'express';
import { EXTERNAL_AUTH_PATH, ExternalAuthErrorFilter } from './external-auth/external-auth-error.filter';
import { ExternalOAuthErrorFilter } from './external-oauth/external-oauth-error.filter';

/**
 * The gateway's one global filter: each API surface answers in its own documented error shape,
 * chosen by path, so errors raised before routing (a body that is not JSON, an unknown sub-path)
 * get it too. `/api/v2/external-auth` (seed 001) → codersdk.Response; everything else → seed 000.
 */
@Catch()
export class SurfaceErrorFilter implements ExceptionFilter {
  private readonly externalOAuth = new ExternalOAuthErrorFilter();
  private readonly externalAuth = new ExternalAuthErrorFilter();

  catch(error: unknown, host: ArgumentsHost): void {
    const path = host.switchToHttp().getRequest<Request>().path ?? '';
    const onExternalAuth = path === EXTERNAL_AUTH_PATH || path.startsWith(`${EXTERNAL_AUTH_PATH}/`);
    (onExternalAuth ? this.externalAuth : this.externalOAuth).catch(error, host);
  }
}
