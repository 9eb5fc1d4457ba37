import { HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BusError, BusRemoteError } from '@broker/bus';
import { HTTP_STATUS_BY_BUS_ERROR } from '@broker/contracts';
import { requestShapeProblem } from '../malformed-body';

/** A field at fault in a refusal, as the bus and the gateway's own handlers name it. */
export interface FaultyField {
  name: string;
  message: string;
}

/**
 * What an error means for the caller, before any surface puts it into its documented shape. One
 * decision ladder for every API surface, so a bus refusal, an outage, a body that is not JSON or
 * an unknown failure is judged the same way everywhere; each surface's filter only words it.
 */
export type ErrorVerdict =
  /** A 4xx the caller can act on: a service's refusal over the bus, or a gateway HttpException. */
  | { kind: 'refused'; status: number; message: string; fields: FaultyField[]; from: 'bus' }
  | { kind: 'refused'; status: number; message: string; fields: []; from: 'http'; error: HttpException }
  /** A backing service did not answer (`words`: null), or answered that something is unavailable (`words`: its own). */
  | { kind: 'unavailable'; status: number; words: string | null }
  /** The body could not be parsed as JSON (the parser's message quotes the body: never echo it). */
  | { kind: 'malformed-json' }
  /** The body could not be read at all (too large, an unknown encoding...). */
  | { kind: 'unreadable-body'; status: number }
  /** Anything else: a 500 whose id is logged with the error; the body names only the id. */
  | { kind: 'internal'; errorId: string };

/** How a surface departs from the common ladder (both are kept as its seed documents them). */
export interface VerdictOptions {
  /** Keep a service's own UNAVAILABLE answer ("the provider refused the token") instead of blaming the backing services (default true). */
  keepUnavailableWords?: boolean;
  /** Treat a service's INTERNAL answer as an outage (503) rather than the gateway's own 500 (default false). */
  internalAnswerIsOutage?: boolean;
}

/**
 * Judges `error` for an API surface: logs what must be logged (a failed bus call as a warning, an
 * unknown error with its id) and says what the caller is to be told.
 */
export function judgeError(error: unknown, logger: Logger, options: VerdictOptions = {}): ErrorVerdict {
  const { keepUnavailableWords = true, internalAnswerIsOutage = false } = options;
  if (error instanceof BusRemoteError) {
    const status = HTTP_STATUS_BY_BUS_ERROR[error.code];
    if (status < 500)
      return { kind: 'refused', status, message: error.message, fields: error.fields ?? [], from: 'bus' };
    if (keepUnavailableWords && error.code === 'UNAVAILABLE')
      return { kind: 'unavailable', status, words: error.message };
  }
  if (error instanceof BusError && (error.code !== 'INTERNAL' || internalAnswerIsOutage)) {
    logger.warn(`bus call failed: ${error.code} ${error.pattern}`);
    return { kind: 'unavailable', status: 503, words: null };
  }
  const problem = requestShapeProblem(error);
  if (problem) return problem;
  if (error instanceof HttpException && error.getStatus() < 500)
    return {
      kind: 'refused',
      status: error.getStatus(),
      message: httpMessage(error),
      fields: [],
      from: 'http',
      error,
    };
  const errorId = randomUUID();
  logger.error({ errorId, err: error }, 'unhandled error');
  return { kind: 'internal', errorId };
}

/** The words of an HttpException: its string body, or its body's `message` (a list joined by "; "). */
function httpMessage(error: HttpException): string {
  const r = error.getResponse();
  if (typeof r === 'string') return r;
  const m = (r as { message?: unknown }).message;
  return Array.isArray(m) ? m.join('; ') : typeof m === 'string' ? m : error.message;
}
