import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { Observable, throwError } from 'rxjs';
import { QueryFailedError } from 'typeorm';
import type { BusErrorPayload } from '@broker/contracts';

/** Integrity violations a caller's input can cause (not-null, foreign key, unique, check). */
const INPUT_CONSTRAINTS = new Set(['23502', '23503', '23505', '23514']);

/** The SQLSTATE of a failed query, if the driver gave one. */
function sqlState(error: QueryFailedError): string {
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * A query PostgreSQL refused. Class 22 (data exception: a NUL byte, text that is not a UUID, a
 * number out of range...) and integrity violations come from the caller's input: a 4xx
 * (BAD_REQUEST, or CONFLICT for a duplicate). Anything else is ours: INTERNAL with an error id.
 *
 * The log line names the SQLSTATE, the table and constraint only: a failed query's text,
 * parameters and PostgreSQL's message (which quotes the offending value) hold user input and are
 * never logged (TypeORM's QueryFailedError carries all three as enumerable properties).
 */
@Catch(QueryFailedError)
export class QueryErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Database');

  catch(error: QueryFailedError, host: ArgumentsHost): Observable<never> | void {
    const state = sqlState(error);
    const driver = (error.driverError ?? {}) as { table?: unknown; constraint?: unknown; routine?: unknown };
    const where = {
      sqlState: state,
      table: typeof driver.table === 'string' ? driver.table : undefined,
      constraint: typeof driver.constraint === 'string' ? driver.constraint : undefined,
    };
    const clientFault = state.startsWith('22') || INPUT_CONSTRAINTS.has(state);
    let payload: BusErrorPayload;
    if (clientFault) {
      this.logger.warn({ ...where }, 'a query refused its input');
      payload =
        state === '23505'
          ? { code: 'CONFLICT', message: 'This conflicts with an existing record.' }
          : {
              code: 'BAD_REQUEST',
              message:
                'The request holds a value that cannot be stored or compared (for example a NUL character).',
            };
    } else {
      const errorId = randomUUID();
      this.logger.error(
        { ...where, errorId, routine: typeof driver.routine === 'string' ? driver.routine : undefined },
        'a query failed',
      );
      payload = { code: 'INTERNAL', message: `internal error (error id ${errorId})` };
    }
    if (host.getType() === 'rpc') return throwError(() => payload);
    const res = host.switchToHttp().getResponse<Response>();
    res.status(clientFault ? (state === '23505' ? 409 : 400) : 500).json({ message: payload.message });
  }
}
