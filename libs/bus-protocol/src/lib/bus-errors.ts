import type { BusErrorCode, BusErrorPayload } from '@broker/contracts';

/** Base class of every error a bus call can end with on the calling side. */
export class BusError extends Error {
  constructor(
    readonly code: BusErrorCode,
    message: string,
    readonly pattern: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** No replica answered before the deadline. */
export class BusTimeoutError extends BusError {
  constructor(
    pattern: string,
    readonly timeoutMs: number,
  ) {
    super('TIMEOUT', `bus request '${pattern}' got no reply within ${timeoutMs} ms`, pattern);
  }
}

/** The handler answered with an error (a domain error with its code, or INTERNAL). */
export class BusRemoteError extends BusError {
  readonly fields?: BusErrorPayload['fields'];
  constructor(pattern: string, payload: BusErrorPayload) {
    super(payload.code, payload.message, pattern);
    this.fields = payload.fields;
  }
}

/** The request could not be sent (Redis unreachable, client closed, no key for the service). */
export class BusUnavailableError extends BusError {
  constructor(pattern: string, reason: string) {
    super('UNAVAILABLE', `bus request '${pattern}' could not be sent: ${reason}`, pattern);
  }
}
