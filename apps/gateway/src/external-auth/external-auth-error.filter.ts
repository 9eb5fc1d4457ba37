import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { BusError, BusRemoteError } from '@broker/bus';
import { ExternalAuthErrorBody, HTTP_STATUS_BY_BUS_ERROR } from '@broker/contracts';
import { BearerChallengeError, ExternalOAuthErrorBody } from '../external-oauth/external-oauth-error.filter';
import { requestShapeProblem } from '../malformed-body';

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
    if (error instanceof BusRemoteError) {
      const status = HTTP_STATUS_BY_BUS_ERROR[error.code];
      if (status < 500) {
        const validations = (error.fields ?? []).map((f) => ({ field: f.name, detail: f.message }));
        return [
          status,
          validations.length ? { message: error.message, validations } : { message: error.message },
        ];
      }
      // A handler's own "unavailable" answer says what is unavailable: keep it (see ExternalOAuthErrorFilter).
      if (error.code === 'UNAVAILABLE') return [status, { message: error.message }];
    }
    if (error instanceof BusError && error.code !== 'INTERNAL') {
      this.logger.warn(`bus call failed: ${error.code} ${error.pattern}`);
      return [503, { message: 'A backing service is unavailable; try again shortly.' }];
    }
    // What the body parser said is never echoed (it quotes the body).
    const problem = requestShapeProblem(error);
    if (problem?.kind === 'malformed-json') return [400, { message: 'The body is not valid JSON.' }];
    if (problem?.kind === 'unreadable-body')
      return [problem.status, { message: 'The request body cannot be read.' }];
    if (error instanceof HttpException && error.getStatus() < 500) {
      const r = error.getResponse();
      const m = typeof r === 'string' ? r : (r as { message?: unknown }).message;
      return [
        error.getStatus(),
        { message: typeof m === 'string' ? m : Array.isArray(m) ? m.join('; ') : error.message },
      ];
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err: error }, 'unhandled error');
    return [500, { message: 'Internal error.', detail: `error id ${errorId}` }];
  }
}
