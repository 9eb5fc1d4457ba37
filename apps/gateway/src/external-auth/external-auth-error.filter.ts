import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ExternalAuthErrorBody } from '@broker/contracts';
import { BearerChallengeError, ExternalOAuthErrorBody } from '../external-oauth/external-oauth-error.filter';
import { judgeError } from '../http/error-verdict';

/** Thrown by the external-auth handlers for a 4xx in Coder's `codersdk.Response` shape. */
export class ExternalAuthHttpError extends HttpException {
  constructor(status: number, body: ExternalAuthErrorBody) {
    super(body, status);
  }
}

/** The path prefix of the surface: errors raised before routing (body parsing) are sent here by the gateway's global filter. */
export const EXTERNAL_AUTH_PATH = '/api/v2/external-auth';

/**
 * Maps every error on `/api/v2/external-auth` to seed 001's error shape, `{message, detail?,
 * validations?}` (codersdk.Response). Unknown errors become a 500 with an error id that is logged;
 * the body never carries a stack or a secret.
 */
@Catch()
export class ExternalAuthErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof BearerChallengeError) res.header('WWW-Authenticate', error.challenge);
    const [status, body] = this.describe(error);
    res.status(status).send(body);
  }

  private describe(error: unknown): [number, ExternalAuthErrorBody] {
    if (error instanceof ExternalAuthHttpError)
      return [error.getStatus(), error.getResponse() as ExternalAuthErrorBody];
    if (error instanceof BearerChallengeError)
      return [error.getStatus(), { message: (error.getResponse() as ExternalOAuthErrorBody).message }];
    const verdict = judgeError(error, this.logger);
    switch (verdict.kind) {
      case 'refused': {
        const validations = verdict.fields.map((f) => ({ field: f.name, detail: f.message }));
        return [
          verdict.status,
          validations.length ? { message: verdict.message, validations } : { message: verdict.message },
        ];
      }
      case 'unavailable':
        // A handler's own "unavailable" answer says what is unavailable: keep it (see ExternalOAuthErrorFilter).
        return [
          verdict.status,
          { message: verdict.words ?? 'A backing service is unavailable; try again shortly.' },
        ];
      case 'malformed-json':
        return [400, { message: 'The body is not valid JSON.' }];
      case 'unreadable-body':
        return [verdict.status, { message: 'The request body cannot be read.' }];
      case 'internal':
        return [500, { message: 'Internal error.', detail: `error id ${verdict.errorId}` }];
    }
  }
}
