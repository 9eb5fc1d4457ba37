import { createHash, timingSafeEqual } from 'node:crypto';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';

/** How long a browser has from the start page to the provider's answer (the consent's own state lives 10 minutes). */
export const CONSENT_COOKIE_MAX_AGE_MS = 10 * 60_000;

/**
 * The cookie that binds a consent to the browser that started it. One per consent (the name ends
 * with a hash of the state), so parallel consents in one browser do not overwrite each other.
 * Behind https it is a `__Host-` cookie (Secure, host-only, path /: a sibling subdomain cannot set
 * it). Browsers refuse `__Host-` (and Secure) cookies over plain http, so on an http PUBLIC_URL
 * (local development) the documented fallback is the same name without the prefix and not Secure.
 */
export function consentCookieName(publicUrl: string, state: string): string {
  const id = createHash('sha256').update(state).digest('hex').slice(0, 16);
  return `${publicUrl.startsWith('https:') ? '__Host-' : ''}broker-consent-${id}`;
}

export function consentCookieOptions(
  publicUrl: string,
  maxAgeMs = CONSENT_COOKIE_MAX_AGE_MS,
): CookieSerializeOptions {
  // Max-Age and Expires both, as Express' res.cookie wrote them.
  return {
    httpOnly: true,
    sameSite: 'lax',
    secure: publicUrl.startsWith('https:'),
    path: '/',
    maxAge: Math.floor(maxAgeMs / 1000),
    expires: new Date(Date.now() + maxAgeMs),
  };
}

/** A cookie's value from the request (the raw header: the gateway has no cookie parser), or undefined. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** SHA-256 (hex) of the cookie value: what the token-broker stores and compares. */
export function bindingHash(cookie: string): string {
  return createHash('sha256').update(cookie).digest('hex');
}

/** Constant-time equality of two cookie-sized strings. */
export function sameValue(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
