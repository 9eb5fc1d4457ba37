import type { FastifyReply } from 'fastify';
import { renderErrorPage } from '../pages/page-templates';
import { oauthSetupsError } from '../oauth-setups/oauth-setups-error.filter';

/**
 * The gateway's API surfaces, each with its own documented error shape:
 * - `external-oauth` (seed 000, and anything not listed below): `{message, errorFields[]}`;
 * - `external-auth` (seed 001, codersdk.Response): `{message, detail?}`;
 * - `oauth-protocol` (RFC 6749 §5.2: token, revoke, introspect, authorize, the upstream
 *   callback, the `.well-known` documents): `{error, error_description}`;
 * - `oauth-api` (seed 003's other routes, FastAPI style): `{detail}`;
 * - `oauth-setups` (seed 002 and the webhook endpoints): `{object: "error", status, code, message, errors[]}`;
 * - `page` (the hosted pages and the provider's browser callback): an HTML page.
 */
export type Surface =
  | 'external-oauth'
  | 'external-auth'
  | 'oauth-protocol'
  | 'oauth-api'
  | 'oauth-setups'
  | 'page';

/** Path prefixes of the seed 002 surface (OAuth setups) and of the webhook endpoints, which share its error shape. */
export const OAUTH_SETUPS_PATHS = ['/api/v2/provider-deployments', '/api/v2/webhook-endpoints'];

const OAUTH_PROTOCOL = [
  '/api/v1/oauth/token',
  '/api/v1/oauth/revoke',
  '/api/v1/oauth/introspect',
  '/api/v1/oauth/authorize',
  '/api/v1/oauth/authorize/confirm',
  '/api/v1/oauth/upstream/callback',
];

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** The surface a request path belongs to (paths compared without a trailing slash). */
export function surfaceOf(method: string, rawPath: string): Surface {
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath;
  if (under(path, '/api/v2/external-auth')) return 'external-auth';
  if (OAUTH_SETUPS_PATHS.some((p) => under(path, p))) return 'oauth-setups';
  if (under(path, '/connect') || (method === 'GET' && path === '/api/v2/externalOAuth/providers/callback'))
    return 'page';
  if (OAUTH_PROTOCOL.includes(path) || under(path, '/.well-known')) return 'oauth-protocol';
  if (under(path, '/api/v1/oauth')) return 'oauth-api';
  return 'external-oauth';
}

/** The Content-Type of the gateway's pages (Express' `res.type('html')`). */
export const HTML = 'text/html; charset=utf-8';

/**
 * Answers a refused request (bad bytes, a body that cannot be read) in the shape of its surface.
 * `where` names the part of the request at fault (`body`, `query`, `path`).
 */
export function refuse(
  res: FastifyReply,
  surface: Surface,
  status: number,
  message: string,
  where: string,
): void {
  if (res.sent) return;
  res.status(status);
  switch (surface) {
    case 'external-oauth':
      void res.send({ message, errorFields: [{ name: where, message }] });
      return;
    case 'external-auth':
      void res.send({ message, detail: `${where}: ${message}` });
      return;
    case 'oauth-protocol':
      void res.send({ error: 'invalid_request', error_description: message });
      return;
    case 'oauth-api':
      void res.send({ detail: message });
      return;
    case 'oauth-setups':
      void res.send(oauthSetupsError(status, message, [{ field: where, message }]));
      return;
    case 'page':
      void res.type(HTML).send(renderErrorPage(res, { title: 'Bad request', message }));
  }
}
