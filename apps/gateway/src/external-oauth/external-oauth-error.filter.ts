import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { judgeError } from '../http/error-verdict';

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
    const verdict = judgeError(error, this.logger);
    switch (verdict.kind) {
      case 'refused':
        return [verdict.status, { message: verdict.message, errorFields: verdict.fields }];
      case 'unavailable':
        // A handler's own "unavailable" answer says what is unavailable (e.g. "the provider refused the
        // token"): keep it, instead of blaming the broker's backing services.
        return [
          verdict.status,
          {
            message: verdict.words ?? 'A backing service is unavailable; try again shortly.',
            errorFields: [],
          },
        ];
      case 'malformed-json':
        // A body that is not JSON is a validation error (422, documented on every operation of the
        // seed), named on `body`.
        return [
          422,
          {
            message: 'The request body is not valid JSON.',
            errorFields: [{ name: 'body', message: 'must be valid JSON' }],
          },
        ];
      case 'unreadable-body':
        return [verdict.status, { message: 'The request body cannot be read.', errorFields: [] }];
      case 'internal':
        return [500, { message: `Internal error (error id ${verdict.errorId}).`, errorFields: [] }];
    }
  }
}
