import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { OAuthSetupsErrorBody } from '@broker/contracts';
import { BearerChallengeError, ExternalOAuthHttpError } from '../external-oauth/external-oauth-error.filter';
import { judgeError } from '../http/error-verdict';

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
    // This surface answers every outage alike, a service's own UNAVAILABLE answer included.
    const verdict = judgeError(error, this.logger, { keepUnavailableWords: false });
    switch (verdict.kind) {
      case 'refused':
        return oauthSetupsError(
          verdict.status,
          // An HttpException's own message, as this surface has always worded it.
          verdict.from === 'http' ? verdict.error.message : verdict.message,
          verdict.fields.map((f) => ({ field: f.name, message: f.message })),
        );
      case 'unavailable':
        return oauthSetupsError(503, 'A backing service is unavailable; try again shortly.');
      case 'malformed-json':
        return oauthSetupsError(400, 'The request body is not valid JSON.', [
          { field: 'body', message: 'must be valid JSON' },
        ]);
      case 'unreadable-body':
        return oauthSetupsError(verdict.status, 'The request body cannot be read.');
      case 'internal':
        return oauthSetupsError(500, `Internal error (error id ${verdict.errorId}).`);
    }
  }
}
