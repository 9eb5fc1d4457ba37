import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

type Directives = Record<string, Iterable<string | ((req: IncomingMessage, res: ServerResponse) => string)>>;

const nonce = (_req: IncomingMessage, res: ServerResponse) => `'nonce-${String((res as Response).locals['cspNonce'] ?? '')}'`;

function directives(https: boolean, formAction: string[]): Directives {
  return {
    'default-src': ["'none'"],
    'base-uri': ["'none'"],
    // The consent start page posts to itself, which redirects to the provider: both must be allowed.
    'form-action': ["'self'", ...formAction],
    'frame-ancestors': ["'none'"],
    'style-src': [nonce],
    'img-src': ["'self'", 'data:'],
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/**
 * Headers on every answer, set by helmet: a strict Content-Security-Policy (no scripts; only the
 * page's own nonce-tagged stylesheet; `frame-ancestors 'none'`), `X-Frame-Options: DENY`,
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, HSTS behind https. Every answer
 * also starts as `Cache-Control: no-store` (tokens, codes, states and personal data must not be
 * cached anywhere); the few public documents (`.well-known`) say otherwise themselves.
 */
export function securityHeaders(publicUrl: string): RequestHandler[] {
  const https = publicUrl.startsWith('https:');
  return [
    (_req: Request, res: Response, next: NextFunction) => {
      res.locals['cspNonce'] = randomBytes(16).toString('base64');
      res.setHeader('Cache-Control', 'no-store');
      next();
    },
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: directives(https, []) },
      xFrameOptions: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
      crossOriginResourcePolicy: { policy: 'same-origin' },
    }) as RequestHandler,
  ];
}

/** Sets the page's CSP again, allowing its form's redirect to `origins` (the provider of a consent). */
export function allowFormRedirects(req: Request, res: Response, publicUrl: string, origins: string[]): void {
  helmet.contentSecurityPolicy({ useDefaults: false, directives: directives(publicUrl.startsWith('https:'), origins) })(req, res, () => undefined);
}
