/** A failure of the tokens domain, with the bus error code it maps to. */
export class TokensError extends Error {
  constructor(
    readonly code:
      | 'NOT_FOUND'
      | 'GONE'
      | 'CONFLICT'
      | 'BAD_REQUEST'
      | 'UNPROCESSABLE'
      | 'UNAVAILABLE'
      | 'FORBIDDEN',
    message: string,
    /** Machine-readable detail (e.g. `status` of a dead authorization, `providerStatus` of a blocked one). */
    readonly fields?: { name: string; message: string }[],
  ) {
    super(message);
    this.name = 'TokensError';
  }
}
