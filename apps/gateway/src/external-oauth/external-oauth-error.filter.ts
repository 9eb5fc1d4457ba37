import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { BusError, BusRemoteError } from '@broker/bus';
import { HTTP_STATUS_BY_BUS_ERROR } from '@broker/contracts';
import { requestShapeProblem } from '../malformed-body';

/** The error body of the externalOAuth surface (seed 000). */
export interface ExternalOAuthErrorBody {
  message: string;
  errorFields: { name: string; message: string }[];
}

/** Thrown by gateway handlers for a 4xx with field-level detail in the seed's error shape. */
export class ExternalOAuthHttpError extends HttpException {
  constructor(status: number, message: string, errorFields: ExternalOAuthErrorBody['errorFields'] = []) {
    super({ message, errorFields } satisfies ExternalOAuthErrorBody, status);
  }
}

/** A 401/403 that also tells the client how to authenticate (RFC 6750 `WWW-Authenticate`). */
export class BearerChallengeError extends ExternalOAuthHttpError {
  constructor(
    status: 401 | 403,
    message: string,
    readonly challenge: string,
  ) {
    super(status, message);
  }
}

/**
 * Maps every error on the gateway's REST routes to `{message, errorFields}` with the right status.
 * Unknown errors become a 500 with an error id that is logged; the body never carries a stack or a secret.
 */
@Catch()
export class ExternalOAuthErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof BearerChallengeError) res.header('WWW-Authenticate', error.challenge);
    const [status, body] = this.describe(error);
    res.status(status).send(body);
  }

  private describe(error: unknown): [number, ExternalOAuthErrorBody] {
    if (error instanceof ExternalOAuthHttpError)
      return [error.getStatus(), error.getResponse() as ExternalOAuthErrorBody];
    if (error instanceof BusRemoteError) {
      const status = HTTP_STATUS_BY_BUS_ERROR[error.code];
      if (status < 500) return [status, { message: error.message, errorFields: error.fields ?? [] }];
      // A handler's own "unavailable" answer says what is unavailable (e.g. "the provider refused the
      // token"): keep it, instead of blaming the broker's backing services.
      if (error.code === 'UNAVAILABLE') return [status, { message: error.message, errorFields: [] }];
    }
    if (error instanceof BusError && error.code !== 'INTERNAL') {
      this.logger.warn(`bus call failed: ${error.code} ${error.pattern}`);
      return [503, { message: 'A backing service is unavailable; try again shortly.', errorFields: [] }];
    }
    // A body that is not JSON is a validation error (422, documented on every operation of the
    // seed), named on `body`; what the parser said is never echoed (it quotes the body).
    const problem = requestShapeProblem(error);
    if (problem?.kind === 'malformed-json')
      return [
        422,
        {
          message: 'The request body is not valid JSON.',
          errorFields: [{ name: 'body', message: 'must be valid JSON' }],
        },
      ];
    if (problem?.kind === 'unreadable-body')
      return [problem.status, { message: 'The request body cannot be read.', errorFields: [] }];
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status < 500) return [status, { message: httpMessage(error), errorFields: [] }];
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err: error }, 'unhandled error');
    return [500, { message: `Internal error (error id ${errorId}).`, errorFields: [] }];
  }
}

function httpMessage(error: HttpException): string {
  const r = error.getResponse();
  if (typeof r === 'string') return r;
  const m = (r as { message?: unknown }).message;
  return Array.isArray(m) ? m.join('; ') : typeof m === 'string' ? m : error.message;
}
