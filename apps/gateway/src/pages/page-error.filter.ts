import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { HTML } from '../http/surfaces';
import type { FastifyReply } from 'fastify';
import { BusError } from '@broker/bus';
import { renderErrorPage } from './page-templates';

/** Errors on the hosted pages are pages too: a 4xx says what to do, a failure says to try again (with an error id that is logged). */
@Catch()
export class PageErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Pages');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    if (res.sent) return;
    if (error instanceof HttpException && error.getStatus() < 500) {
      res
        .status(error.getStatus())
        .type(HTML)
        .send(
          renderErrorPage(res, {
            title: 'Not connected',
            message: 'The request could not be read. Start again from the application.',
          }),
        );
      return;
    }
    const errorId = randomUUID();
    if (error instanceof BusError)
      this.logger.warn(`bus call failed: ${error.code} ${error.pattern} (error id ${errorId})`);
    else this.logger.error({ errorId, err: error }, 'unhandled error');
    res
      .status(503)
      .type(HTML)
      .send(
        renderErrorPage(res, {
          title: 'Try again shortly',
          message: `The service could not complete this step (error id ${errorId}). Try again shortly.`,
        }),
      );
  }
}
