import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import { EncryptJWT, jwtDecrypt } from 'jose';

/** Where the dashboard lives; its session cookie is sent to nothing else. */
export const DASHBOARD_PATH = '/admin/queues';

/**
 * The session cookie's name. Behind https it is `__Secure-` (a browser only keeps it over https);
 * `__Host-` is not possible, as it demands `Path=/` and this cookie is limited to the dashboard. On
 * an http PUBLIC_URL (local development) it is the plain name, not Secure, as the consent cookies.
 */
export function sessionCookieName(publicUrl: string): string {
  return `${publicUrl.startsWith('https:') ? '__Secure-' : ''}broker-queues`;
}

export function sessionCookieOptions(publicUrl: string, expiresAt: number): CookieSerializeOptions {
  const maxAge = Math.max(0, Math.floor((expiresAt - Date.now()) / 1000));
  return {
    httpOnly: true,
    sameSite: 'strict',
    secure: publicUrl.startsWith('https:'),
    path: DASHBOARD_PATH,
    maxAge,
    expires: new Date(expiresAt),
  };
}

const ALG = 'dir';
const ENC = 'A256GCM';

/**
 * The cookie's value: the operator's access token, sealed (JWE, AES-256-GCM under the dashboard's
 * session key), expiring with it. Every request opens it and verifies the token again, so a revoked
 * token, a disabled client or an expired token ends the session at once; the browser never sees the
 * token and a forged or altered value does not open.
 */
export async function sealSession(key: Buffer, token: string, exp: number): Promise<string> {
  return new EncryptJWT({ tok: token })
    .setProtectedHeader({ alg: ALG, enc: ENC })
    .setExpirationTime(exp)
    .encrypt(key);
}

/** The access token in a session cookie, or undefined when it does not open (forged, altered, expired). */
export async function openSession(key: Buffer, value: string): Promise<string | undefined> {
  try {
    const { payload } = await jwtDecrypt(value, key, {
      keyManagementAlgorithms: [ALG],
      contentEncryptionAlgorithms: [ENC],
    });
    return typeof payload['tok'] === 'string' ? payload['tok'] : undefined;
  } catch {
    return undefined;
  }
}

const COOKIE_VALUE = /^[A-Za-z0-9_.-]{1,4000}$/;

/** The session cookie's value from the raw header (the gateway has no cookie parser), or undefined. */
export function readSessionCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return COOKIE_VALUE.test(value) ? value : undefined;
    }
  }
  return undefined;
}
