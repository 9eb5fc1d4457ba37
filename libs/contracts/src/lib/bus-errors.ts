/**
 * Error codes that travel over the bus. A handler throws a domain error with one of these codes;
 * the caller receives it as a typed error and each API surface maps it to its own error shape.
 */
export const BUS_ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'GONE',
  'UNPROCESSABLE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'NO_HANDLER',
  'TIMEOUT',
  'INTERNAL',
] as const;
export type BusErrorCode = (typeof BUS_ERROR_CODES)[number];

/** What a failed bus request carries back to its caller; never a stack trace or a secret. */
export interface BusErrorPayload {
  code: BusErrorCode;
  message: string;
  /** Field-level problems for validation errors: name of the field and what is wrong with it. */
  fields?: { name: string; message: string }[];
}

/** The HTTP status each bus error code stands for on the REST surfaces. */
export const HTTP_STATUS_BY_BUS_ERROR: Record<BusErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  NO_HANDLER: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

/** True when a value has the shape of a BusErrorPayload with a known code. */
export function isBusErrorPayload(value: unknown): value is BusErrorPayload {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['message'] === 'string' &&
    typeof v['code'] === 'string' &&
    (BUS_ERROR_CODES as readonly string[]).includes(v['code'])
  );
}
