import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { judgeError } from '../http/error-verdict';

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
    // A service's INTERNAL answer and its own UNAVAILABLE words are an outage here, as RFC 6749 words it.
    const verdict = judgeError(error, this.logger, {
      keepUnavailableWords: false,
      internalAnswerIsOutage: true,
    });
    switch (verdict.kind) {
      case 'malformed-json':
        // Raised before routing (the gateway's surface filter sends them here): never echo the parser's message.
        res.status(422).send({ detail: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }] });
        return;
      case 'unreadable-body':
        res.status(verdict.status).send({ detail: 'The request body cannot be read.' });
        return;
      case 'refused':
        if (verdict.from === 'bus') {
          // A refusal by the service (forbidden, unknown subject...): FastAPI-style `{detail}` like the seed.
          res.status(verdict.status).send({ detail: verdict.message });
          return;
        }
        this.sendRefusal(res, verdict.error, verdict.message);
        return;
      case 'unavailable':
        res.status(503).send({
          error: 'temporarily_unavailable',
          error_description: 'the authorization server is unavailable; try again shortly',
        });
        return;
      case 'internal':
        res.status(500).send({
          error: 'server_error',
          error_description: `internal error (error id ${verdict.errorId})`,
        });
    }
  }

  /** A 4xx of the gateway's own: its challenge, and a seed-shaped `{detail}` body as it is, else RFC 6749 §5.2. */
  private sendRefusal(res: FastifyReply, error: HttpException, message: string): void {
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
    res.status(error.getStatus()).send({ error: 'invalid_request', error_description: message });
  }
}
