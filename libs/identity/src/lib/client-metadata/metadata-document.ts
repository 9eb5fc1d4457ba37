import { z } from 'zod';
import { OAuthError } from '../oauth-error';

/** The grants a client identified by URL may use: it is a public client, so nothing without a person. */
const PUBLIC_GRANTS = ['authorization_code', 'refresh_token'] as const;
type PublicGrant = (typeof PUBLIC_GRANTS)[number];

/** Client authentication methods that rely on a shared secret: a document is public, so it can hold none (draft §4.1). */
const SHARED_SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

/** What the broker keeps of a client's metadata document. */
export interface ClientMetadata {
  clientName: string | null;
  logoUri: string | null;
  redirectUris: string[];
  grantTypes: PublicGrant[];
  /** The document's `scope` (the most it will ask for), or null when it names none. */
  scope: string[] | null;
}

const stringList = (max: number, itemMax: number) => z.array(z.string().min(1).max(itemMax)).min(1).max(max);

// Other RFC 7591 fields (client_uri, contacts, software_id, ...) may be present: they are ignored.
const documentSchema = z.looseObject({
  client_id: z.string(),
  redirect_uris: stringList(20, 2000),
  token_endpoint_auth_method: z.string().optional(),
  grant_types: stringList(10, 200).optional(),
  response_types: stringList(10, 200).optional(),
  client_name: z.unknown().optional(),
  logo_uri: z.unknown().optional(),
  scope: z.string().max(2000).optional(),
});

/**
 * Checks a fetched client ID metadata document against the URL it came from and what this server
 * accepts, and returns what the broker keeps. Every refusal is `invalid_client` naming the field:
 * `client_id` must equal the URL exactly (simple string comparison, no normalisation); a document
 * with `client_secret` or `client_secret_expires_at`, or a shared-secret authentication method, is
 * refused (anyone can read the document); only public clients (`none`, the default here) are
 * accepted; `redirect_uris` must be absolute URLs without fragments.
 */
export function checkMetadataDocument(body: unknown, clientIdUrl: string): ClientMetadata {
  const refuse = (why: string) =>
    new OAuthError('invalid_client', `the client's metadata document is not acceptable: ${why}`);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw refuse('it is not a JSON object');
  const raw = body as Record<string, unknown>;
  if ('client_secret' in raw || 'client_secret_expires_at' in raw)
    throw refuse('it must not contain client_secret or client_secret_expires_at');
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw refuse(`${issue?.path.join('.') || 'document'}: ${issue?.message ?? 'invalid'}`);
  }
  const doc = parsed.data;
  if (doc.client_id !== clientIdUrl) throw refuse('its client_id differs from the URL it was fetched from');
  const method = doc.token_endpoint_auth_method ?? 'none';
  if (SHARED_SECRET_METHODS.has(method))
    throw refuse(
      `token_endpoint_auth_method ${method} needs a shared secret, which a public document cannot hold`,
    );
  if (method !== 'none')
    throw refuse(
      `token_endpoint_auth_method ${method} is not supported here: only public clients (none, with PKCE S256)`,
    );
  const grants = doc.grant_types ?? ['authorization_code'];
  const unsupported = grants.filter((g) => !(PUBLIC_GRANTS as readonly string[]).includes(g));
  if (unsupported.length)
    throw refuse(`grant_types ${unsupported.join(', ')} are not available to a client identified by URL`);
  if (!grants.includes('authorization_code')) throw refuse('grant_types must include authorization_code');
  if (doc.response_types && doc.response_types.some((t) => t !== 'code'))
    throw refuse("response_types may only be 'code'");
  for (const uri of doc.redirect_uris) {
    if (!URL.canParse(uri) || uri.includes('#'))
      throw refuse(`redirect_uris holds '${uri.slice(0, 100)}', not an absolute URL without fragment`);
  }
  return {
    clientName: shortText(doc.client_name, 100),
    logoUri: logo(doc.logo_uri),
    redirectUris: doc.redirect_uris,
    grantTypes: [...new Set(grants)] as PublicGrant[],
    scope: doc.scope === undefined ? null : doc.scope.trim().split(/\s+/).filter(Boolean),
  };
}

/** A display string: printable, bounded; anything else is dropped rather than refusing the client. */
function shortText(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  return clean ? clean.slice(0, max) : null;
}

/** An https logo URL (the consent page loads it), or null. */
function logo(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 2000) return null;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && !url.username && !url.password ? url.href : null;
  } catch {
    return null;
  }
}
