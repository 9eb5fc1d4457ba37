import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { BusError, BusRemoteError } from '@broker/bus';
import { HTTP_STATUS_BY_BUS_ERROR, OAuthSetupsErrorBody } from '@broker/contracts';
import { BearerChallengeError, ExternalOAuthHttpError } from '../external-oauth/external-oauth-error.filter';
import { requestShapeProblem } from '../malformed-body';

const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'invalid_data',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'unavailable',
  504: 'timeout',
};

/** The error body of the seed 002 surface (and the webhook endpoints): status, a stable code, words, and the fields at fault. */
export function oauthSetupsError(
  status: number,
  message: string,
  errors: { field: string; message: string }[] = [],
): OAuthSetupsErrorBody {
  return {
    object: 'error',
    status,
    code: CODES[status] ?? (status < 500 ? 'invalid_request' : 'internal_error'),
    message,
    errors,
  };
}

/** Thrown by the surface's handlers for a 4xx naming the fields at fault. */
export class OAuthSetupsHttpError extends HttpException {
  constructor(status: number, message: string, errors: { field: string; message: string }[] = []) {
    super(oauthSetupsError(status, message, errors), status);
  }
}

/**
 * Every error on `/api/v2/provider-deployments/…/oauth-setups` and `/api/v2/webhook-endpoints` as
 * `{object: "error", status, code, message, errors}`. Unknown errors are a 500 with an error id
 * that is logged; the body never carries a stack or a secret.
 */
@Catch()
export class OAuthSetupsErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof BearerChallengeError) res.header('WWW-Authenticate', error.challenge);
    const body = this.describe(error);
    res.status(body.status).send(body);
  }

  private describe(error: unknown): OAuthSetupsErrorBody {
    if (error instanceof OAuthSetupsHttpError) return error.getResponse() as OAuthSetupsErrorBody;
    if (error instanceof ExternalOAuthHttpError) {
      const r = error.getResponse() as { message: string; errorFields: { name: string; message: string }[] };
      return oauthSetupsError(
        error.getStatus(),
        r.message,
        r.errorFields.map((f) => ({ field: f.name, message: f.message })),
      );
    }
    if (error instanceof BusRemoteError) {
      const status = HTTP_STATUS_BY_BUS_ERROR[error.code];
      if (status < 500)
        return oauthSetupsError(
          status,
          error.message,
          (error.fields ?? []).map((f) => ({ field: f.name, message: f.message })),
        );
    }
    if (error instanceof BusError && error.code !== 'INTERNAL') {
      this.logger.warn(`bus call failed: ${error.code} ${error.pattern}`);
      return oauthSetupsError(503, 'A backing service is unavailable; try again shortly.');
    }
    const problem = requestShapeProblem(error);
    if (problem?.kind === 'malformed-json')
      return oauthSetupsError(400, 'The request body is not valid JSON.', [
        { field: 'body', message: 'must be valid JSON' },
      ]);
    if (problem?.kind === 'unreadable-body')
      return oauthSetupsError(problem.status, 'The request body cannot be read.');
    if (error instanceof HttpException && error.getStatus() < 500)
      return oauthSetupsError(error.getStatus(), error.message);
    const errorId = randomUUID();
    this.logger.error({ errorId, err: error }, 'unhandled error');
    return oauthSetupsError(500, `Internal error (error id ${errorId}).`);
  }
}
