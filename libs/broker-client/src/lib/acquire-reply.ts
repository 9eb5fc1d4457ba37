import { BusError, BusRemoteError, BusTimeoutError } from '@broker/bus-protocol';
import type { AcquiredToken } from '@broker/contracts';
import { BrokerClientError, codeForBusError, redact } from './errors';

// What a `tokens.acquire` over the bus gives the caller: the reply checked against the contract,
// or a BrokerClientError that names what went wrong without the caller's token.

export const PATTERN = 'tokens.acquire';

/** What a failed bus call becomes for the caller (the caller's own token redacted from any message). */
export function busError(err: unknown, auth: string, closed: boolean): BrokerClientError {
  if (closed) return closedError();
  if (err instanceof BusRemoteError) {
    return new BrokerClientError(
      codeForBusError(err.code),
      `the broker answered ${PATTERN} with ${err.code}: ${redact(err.message, [auth])}`,
      err.code,
    );
  }
  if (err instanceof BusTimeoutError) {
    return new BrokerClientError(
      'TIMEOUT',
      `the broker did not answer ${PATTERN} within ${err.timeoutMs} ms`,
    );
  }
  if (err instanceof BusError)
    return new BrokerClientError(
      'UNAVAILABLE',
      `the bus could not carry ${PATTERN}: ${redact(err.message, [auth])}`,
    );
  return new BrokerClientError('INTERNAL', `${PATTERN} failed unexpectedly`);
}

export function closedError(): BrokerClientError {
  return new BrokerClientError('CLOSED', 'the broker client is closed');
}

export function timeoutError(ms: number): BrokerClientError {
  return new BrokerClientError('TIMEOUT', `no token from the broker within ${ms} ms`);
}

/** The reply as an AcquiredToken with only the contract's fields, or INTERNAL if it is not one. */
export function checkReply(reply: unknown): AcquiredToken {
  const bad = new BrokerClientError(
    'INTERNAL',
    `the broker answered ${PATTERN} with something that is not a token`,
  );
  if (typeof reply !== 'object' || reply === null) throw bad;
  const r = reply as Record<string, unknown>;
  const text = (name: string): string => (typeof r[name] === 'string' ? (r[name] as string) : '');
  if (!text('accessToken') || !text('authorizationId')) throw bad;
  const scopes = Array.isArray(r['scopes'])
    ? r['scopes'].filter((s): s is string => typeof s === 'string')
    : [];
  const token: AcquiredToken = {
    accessToken: text('accessToken'),
    tokenType: text('tokenType') || 'Bearer',
    authorizationId: text('authorizationId'),
    providerId: text('providerId'),
    userId: text('userId'),
    scopes,
    attenuated: r['attenuated'] === true,
  };
  if (typeof r['expiresAt'] === 'string') token.expiresAt = r['expiresAt'];
  return token;
}

/** What a caller gets: its own copy (changing it does not change the cache). */
export function copyOf(token: AcquiredToken): AcquiredToken {
  return { ...token, scopes: [...token.scopes] };
}
