import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { BusError, BusRemoteError } from '@broker/bus';
import { HTTP_STATUS_BY_BUS_ERROR } from '@broker/contracts';
import { requestShapeProblem } from '../malformed-body';

/** A 422 in the seed 003 validation shape: `{detail: [{loc, msg, type}]}`. */
export class OAuthValidationError extends HttpException {
  constructor(detail: { loc: (string | number)[]; msg: string; type: string }[]) {
    super({ detail }, 422);
  }
}

/** Maps errors on the `/api/v1/oauth/*` routes to RFC 6749 §5.2 bodies (or the seed's 422 shape). */
@Catch()
export class OAuthErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('OAuthErrors');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    res.header('Cache-Control', 'no-store');
    // Raised before routing (the gateway's surface filter sends them here): never echo the parser's message.
    const problem = requestShapeProblem(error);
    if (problem?.kind === 'malformed-json') {
      res.status(422).send({ detail: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }] });
      return;
    }
    if (problem?.kind === 'unreadable-body') {
      res.status(problem.status).send({ detail: 'The request body cannot be read.' });
      return;
    }
    if (error instanceof HttpException && error.getStatus() < 500) {
      const body = error.getResponse();
      const challenge = (error as { challenge?: unknown }).challenge;
      if (typeof challenge === 'string') res.header('WWW-Authenticate', challenge);
      if (
        error instanceof OAuthValidationError ||
        (typeof body === 'object' && body !== null && 'detail' in body)
      ) {
        res.status(error.getStatus()).send(body);
        return;
      }
      const message =
        typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? error.message);
      res.status(error.getStatus()).send({
        error: 'invalid_request',
        error_description: Array.isArray(message) ? message.join('; ') : String(message),
      });
      return;
    }
    if (error instanceof BusRemoteError && HTTP_STATUS_BY_BUS_ERROR[error.code] < 500) {
      // A refusal by the service (forbidden, unknown subject...): FastAPI-style `{detail}` like the seed.
      res.status(HTTP_STATUS_BY_BUS_ERROR[error.code]).send({ detail: error.message });
      return;
    }
    if (error instanceof BusError) {
      this.logger.warn(`bus call failed: ${error.code} ${error.pattern}`);
      res.status(503).send({
        error: 'temporarily_unavailable',
        error_description: 'the authorization server is unavailable; try again shortly',
      });
      return;
    }
    const errorId = randomUUID();
    this.logger.error({ errorId, err: error }, 'unhandled error');
    res
      .status(500)
      .send({ error: 'server_error', error_description: `internal error (error id ${errorId})` });
  }
}
