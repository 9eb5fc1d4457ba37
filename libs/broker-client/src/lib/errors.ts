import type { BusErrorCode } from '@broker/contracts';

/**
 * What went wrong, as a caller of the broker decides on it:
 * - INVALID_REQUEST: the request itself is wrong (nothing was sent);
 * - NOT_FOUND: no such authorization (or none for that user and provider);
 * - GONE: the authorization exists but can no longer give tokens: the user must authorize again;
 * - FORBIDDEN: this client may not have that token (scope, org, or the user is not the caller);
 * - UNAUTHENTICATED: the broker refused this client's own credentials or access token;
 * - CONFLICT: the authorization is in a state that cannot give a token yet;
 * - RATE_LIMITED, TIMEOUT, UNAVAILABLE: transient, worth retrying later;
 * - CLOSED: the client was closed;
 * - INTERNAL: the broker failed, or answered something this client does not understand.
 */
export const BROKER_CLIENT_ERROR_CODES = [
  'INVALID_REQUEST',
  'NOT_FOUND',
  'GONE',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'CONFLICT',
  'RATE_LIMITED',
  'TIMEOUT',
  'UNAVAILABLE',
  'CLOSED',
  'INTERNAL',
] as const;
export type BrokerClientErrorCode = (typeof BROKER_CLIENT_ERROR_CODES)[number];

const RETRYABLE: ReadonlySet<BrokerClientErrorCode> = new Set(['RATE_LIMITED', 'TIMEOUT', 'UNAVAILABLE']);

/** The one error type `BrokerClient` rejects with. Its message never holds a token or a secret. */
export class BrokerClientError extends Error {
  /** The bus error code the broker answered with, when the error came from the broker. */
  readonly busCode?: BusErrorCode;

  constructor(
    readonly code: BrokerClientErrorCode,
    message: string,
    busCode?: BusErrorCode,
  ) {
    super(message);
    this.name = 'BrokerClientError';
    if (busCode) this.busCode = busCode;
  }

  /** True for failures that may go away by themselves (worth a retry with backoff). */
  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}

/** The client's own error code for a bus error code. */
export function codeForBusError(code: BusErrorCode): BrokerClientErrorCode {
  switch (code) {
    case 'BAD_REQUEST':
    case 'UNPROCESSABLE':
      return 'INVALID_REQUEST';
    case 'NOT_FOUND':
    case 'GONE':
    case 'FORBIDDEN':
    case 'UNAUTHENTICATED':
    case 'CONFLICT':
    case 'RATE_LIMITED':
    case 'TIMEOUT':
    case 'UNAVAILABLE':
      return code;
    case 'NO_HANDLER':
      return 'UNAVAILABLE';
    default:
      return 'INTERNAL';
  }
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/**
 * Removes secrets from text that came from elsewhere (a remote error message): every given secret
 * and anything shaped like a JWT. Long messages are cut.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  out = out.replace(JWT_LIKE, '[redacted]');
  return out.length > 300 ? `${out.slice(0, 300)}…` : out;
}
