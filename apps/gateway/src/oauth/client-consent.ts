import { randomBytes } from 'node:crypto';
import { HTML } from '../http/surfaces';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthorizeRequest, MetadataDocumentClientInfo } from '@broker/contracts';
import { consentCookieName, consentCookieOptions, readCookie, sameValue } from '../pages/consent-cookie';
import { renderClientConsent } from '../pages/page-templates';

/** Where the confirmation form posts. */
export const CLIENT_CONSENT_ACTION = '/api/v1/oauth/authorize/confirm';

const cookieFor = (publicUrl: string, nonce: string) =>
  consentCookieName(publicUrl, `client-consent:${nonce}`);

/**
 * Shows the confirmation page for a client identified by URL, and sets the cookie that binds the
 * confirmation to this browser: the form carries a fresh random `confirmation`, the cookie named after it holds it.
 * A page loaded by another site cannot be read by it, and a cross-site POST carries no Lax cookie,
 * so only the person in front of this page can continue.
 */
export function sendClientConsent(
  res: FastifyReply,
  input: {
    publicUrl: string;
    upstreamOrigin: string | undefined;
    authorization: AuthorizeRequest;
    client: MetadataDocumentClientInfo;
  },
): void {
  const nonce = randomBytes(32).toString('base64url');
  res.cookie(cookieFor(input.publicUrl, nonce), nonce, consentCookieOptions(input.publicUrl));
  const logoOrigin = input.client.logoUri ? new URL(input.client.logoUri).origin : undefined;
  // The form posts here, which redirects to the upstream sign-in: form-action must allow both; the logo is the client's.
  const nonceValue = res.cspNonce;
  res.header(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      "base-uri 'none'",
      `form-action 'self' ${[input.upstreamOrigin, redirectOrigin(input.authorization)].filter(Boolean).join(' ')}`.trim(),
      "frame-ancestors 'none'",
      `style-src 'nonce-${nonceValue}'`,
      `img-src 'self' data:${logoOrigin ? ` ${logoOrigin}` : ''}`,
    ].join('; '),
  );
  // `confirmation`, not `nonce`: the authorization request has its own OIDC `nonce` parameter.
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.authorization))
    if (typeof value === 'string') fields[name] = value;
  fields['confirmation'] = nonce;
  res
    .status(200)
    .type(HTML)
    .send(
      renderClientConsent(res, {
        clientName: input.client.clientName,
        logoUri: input.client.logoUri,
        host: input.client.host,
        clientId: input.authorization.client_id ?? '',
        redirectHost: redirectOrigin(input.authorization) ?? '',
        scopes: (input.authorization.scope ?? '').split(/\s+/).filter(Boolean),
        fields,
        action: CLIENT_CONSENT_ACTION,
      }),
    );
}

/** Whether the posted confirmation carries this browser's cookie for its nonce; the cookie is spent either way. */
export function confirmedByThisBrowser(
  req: FastifyRequest,
  res: FastifyReply,
  publicUrl: string,
  nonce: unknown,
): boolean {
  if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(nonce)) return false;
  const name = cookieFor(publicUrl, nonce);
  const cookie = readCookie(req, name);
  if (cookie) res.clearCookie(name, { ...consentCookieOptions(publicUrl), maxAge: undefined });
  return sameValue(cookie, nonce);
}

function redirectOrigin(authorization: AuthorizeRequest): string | undefined {
  try {
    return authorization.redirect_uri ? new URL(authorization.redirect_uri).origin : undefined;
  } catch {
    return undefined;
  }
}
