import { checkUrlStatic, EgressDeniedError, EgressPolicy } from '@broker/provider-adapters';
import { OAuthError } from '../oauth-error';

/** Whether a `client_id` names a client by URL (a client ID metadata document) rather than a registered id. */
export function looksLikeClientIdUrl(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/**
 * Checks a client identifier URL as the draft requires (https, a path other than `/`, no `.` or
 * `..` segments, no fragment, no user name or password) and as the egress guard requires (no
 * private, loopback or metadata address; allowed ports only). Plain http is accepted only where the
 * guard admits loopback destinations (development and tests: EGRESS_ALLOW_LOOPBACK) and only to a
 * loopback host, which the guard checks. The URL is compared and stored exactly as given: the
 * draft forbids normalising it.
 */
export function checkClientIdUrl(clientId: string, policy: EgressPolicy): URL {
  const refuse = (why: string) =>
    new OAuthError('invalid_client', `client_id is not a usable client identifier URL: ${why}`);
  if (clientId.length > 2048) throw refuse('longer than 2048 characters');
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw refuse('not a valid URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowLoopback))
    throw refuse('it must use https');
  if (url.username || url.password) throw refuse('it must not hold a user name or password');
  if (url.hash || clientId.includes('#')) throw refuse('it must not have a fragment');
  // The WHATWG parser removes dot segments: look at the path as it was written.
  const rawPath = clientId.replace(/^https?:\/\/[^/?#]*/i, '').split(/[?#]/)[0];
  if (rawPath === '' || rawPath === '/') throw refuse('it must have a path');
  if (
    rawPath
      .split('/')
      .some(
        (segment) =>
          segment === '.' ||
          segment === '..' ||
          /^%2e(%2e)?$/i.test(segment) ||
          /^\.%2e$|^%2e\.$/i.test(segment),
      )
  ) {
    throw refuse('it must not have . or .. path segments');
  }
  try {
    return checkUrlStatic(url, policy);
  } catch (err) {
    if (err instanceof EgressDeniedError) throw refuse(err.reason);
    throw err;
  }
}
