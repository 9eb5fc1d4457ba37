import { DataSource } from 'typeorm';
import type {
  AuthorizeRequest,
  AuthorizeResult,
  CompleteAuthorizationRequest,
  CompleteAuthorizationResult,
} from '@broker/contracts';
import { OAuthClientEntity } from './entities/oauth-client.entity';
import { GrantsService } from './grants.service';
import { OAuthError } from './oauth-error';
import { SignInPolicy, personScope } from './sign-in-policy';
import { OPENID_SCOPE } from '@broker/auth-kit';
import { grantedScope } from './token-endpoint';
import type { UserProfile } from './users.service';
import { ResourceIndicators } from './resource-indicators';
import { looksLikeClientIdUrl } from './client-metadata/client-id-url';
import type { MetadataDocumentClients } from './client-metadata/metadata-document-clients';

/** Reads who signed in from the upstream identity provider, given its access token. */
export type UpstreamProfileReader = (accessToken: string) => Promise<UserProfile>;

/** The upstream identity provider failed or answered something unusable. */
export class UpstreamLoginError extends Error {}

interface ValidAuthorization {
  client: OAuthClientEntity;
  redirectUri: string;
  scope: string[];
  codeChallenge: string;
  nonce: string | null;
  /** RFC 8707: the resource server the tokens are for (null: the broker's API). */
  resource: string | null;
}

/** An authorize error; `redirectUri` is set only once the client and redirect URI are verified. */
class AuthorizeError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly redirectUri?: string,
  ) {
    super(description);
  }
}

const MAX_STATE = 1024;
const MAX_NONCE = 255;

/**
 * The broker's `/oauth/authorize` for first-party apps (authorization code + PKCE S256). The
 * gateway runs the browser side (the upstream sign-in); this class checks the request before the
 * sign-in starts, checks it again when it ends, admits the person by the org's sign-in policy
 * (refused: `access_denied`, nothing stored) and issues the code, whose scopes are what was asked
 * ∩ the client's ∩ the person's own.
 */
export class AuthorizationEndpoint {
  constructor(
    private readonly dataSource: DataSource,
    private readonly grants: GrantsService,
    private readonly policy: SignInPolicy,
    private readonly readUpstreamProfile?: UpstreamProfileReader,
    private readonly resources?: ResourceIndicators,
    private readonly metadataClients?: MetadataDocumentClients,
  ) {}

  async check(req: AuthorizeRequest): Promise<AuthorizeResult> {
    try {
      const valid = await this.validate(req);
      if (!this.readUpstreamProfile) {
        throw new AuthorizeError(
          'temporarily_unavailable',
          'no upstream identity provider is configured for sign-in',
          valid.redirectUri,
        );
      }
      const { client } = valid;
      if (client.kind !== 'metadata_document') return { ok: true, clientName: client.name };
      // A client identified by URL describes itself: the person sees its words as unverified, and its host.
      const host = new URL(client.id).host;
      return {
        ok: true,
        clientName: client.name,
        metadataDocument: {
          clientName: client.name === host ? null : client.name,
          logoUri: client.logoUri,
          host,
        },
      };
    } catch (err) {
      return failure(err);
    }
  }

  async complete(req: CompleteAuthorizationRequest): Promise<CompleteAuthorizationResult> {
    try {
      const valid = await this.validate(req.authorization ?? {});
      if (!this.readUpstreamProfile)
        throw new AuthorizeError(
          'temporarily_unavailable',
          'no upstream identity provider is configured',
          valid.redirectUri,
        );
      if (typeof req.upstreamAccessToken !== 'string' || !req.upstreamAccessToken) {
        throw new AuthorizeError('access_denied', 'the sign-in did not complete', valid.redirectUri);
      }
      let profile: UserProfile;
      try {
        profile = await this.readUpstreamProfile(req.upstreamAccessToken);
      } catch (err) {
        const reason =
          err instanceof UpstreamLoginError ? err.message : 'the identity provider did not answer';
        throw new AuthorizeError('temporarily_unavailable', `sign-in failed: ${reason}`, valid.redirectUri);
      }
      const admission = await this.policy.admit(valid.client.orgId, profile);
      if (!admission.admitted)
        throw new AuthorizeError('access_denied', `sign-in refused: ${admission.reason}`, valid.redirectUri);
      const user = admission.user;
      const code = await this.grants.issueCode({
        orgId: valid.client.orgId,
        clientId: valid.client.id,
        sub: user.sub,
        scope: personScope(valid.scope, valid.client, user),
        zoneinfo: user.zoneinfo,
        redirectUri: valid.redirectUri,
        codeChallenge: valid.codeChallenge,
        nonce: valid.nonce,
        resource: valid.resource,
      });
      return { ok: true, redirectUri: valid.redirectUri, code };
    } catch (err) {
      return failure(err);
    }
  }

  /**
   * A registered client by id; a client identified by URL through its metadata document (fetched
   * or cached; a refusal is `invalid_client`, never redirected: its redirect URIs are not trusted yet).
   */
  private async findClient(clientId: string): Promise<OAuthClientEntity | null> {
    const registered = await this.dataSource.getRepository(OAuthClientEntity).findOneBy({ id: clientId });
    if (
      registered?.kind !== 'metadata_document' &&
      (registered || !this.metadataClients || !looksLikeClientIdUrl(clientId))
    )
      return registered;
    if (!this.metadataClients) return null;
    try {
      return await this.metadataClients.resolve(clientId);
    } catch (err) {
      if (err instanceof OAuthError) throw new AuthorizeError(err.error, err.description);
      throw err;
    }
  }

  /** RFC 6749 §4.1.1 and RFC 7636 checks, in the order that decides whether an error may redirect. */
  private async validate(req: AuthorizeRequest): Promise<ValidAuthorization> {
    const duplicated = req.duplicated ?? [];
    if (duplicated.includes('client_id') || duplicated.includes('redirect_uri')) {
      throw new AuthorizeError('invalid_request', 'client_id and redirect_uri may be given only once');
    }
    if (!req.client_id) throw new AuthorizeError('invalid_request', 'client_id is required');
    const client = await this.findClient(req.client_id);
    if (!client || client.disabled) throw new AuthorizeError('invalid_request', 'unknown client_id');
    if (!req.redirect_uri) throw new AuthorizeError('invalid_request', 'redirect_uri is required');
    // Exact string comparison: no prefix, wildcard or normalisation (RFC 9700 §4.1.3).
    if (!client.redirectUris.includes(req.redirect_uri)) {
      throw new AuthorizeError('invalid_request', 'redirect_uri is not registered for this client');
    }
    const redirectUri = req.redirect_uri;
    const fail = (error: string, description: string) => new AuthorizeError(error, description, redirectUri);
    if (duplicated.length)
      throw fail('invalid_request', `parameters given more than once: ${duplicated.join(', ')}`);
    if (!client.grantTypes.includes('authorization_code'))
      throw fail('unauthorized_client', 'this client may not use the authorization code grant');
    if (req.response_type !== 'code') throw fail('unsupported_response_type', "response_type must be 'code'");
    if (!req.code_challenge)
      throw fail('invalid_request', 'PKCE is required: send code_challenge and code_challenge_method=S256');
    if (req.code_challenge_method !== 'S256')
      throw fail('invalid_request', "code_challenge_method must be 'S256'");
    if (!/^[A-Za-z0-9_-]{43}$/.test(req.code_challenge))
      throw fail('invalid_request', 'code_challenge is not an S256 challenge');
    if (req.state !== undefined && req.state.length > MAX_STATE)
      throw fail('invalid_request', `state is longer than ${MAX_STATE} characters`);
    if (req.nonce !== undefined && req.nonce.length > MAX_NONCE)
      throw fail('invalid_request', `nonce is longer than ${MAX_NONCE} characters`);
    const asked = (req.scope ?? '').trim().split(/\s+/).filter(Boolean);
    const openid = asked.includes(OPENID_SCOPE);
    let scope: string[];
    try {
      const api = asked.filter((s) => s !== OPENID_SCOPE);
      // Asking only for `openid` (or nothing) grants everything the client may have.
      scope = grantedScope(api.length ? api.join(' ') : undefined, client.scopes);
    } catch (err) {
      if (err instanceof OAuthError) throw fail(err.error, err.description);
      throw err;
    }
    // RFC 8707 §2: one resource, one the server issues tokens for; otherwise invalid_target (redirected).
    if (duplicated.includes('resource'))
      throw fail('invalid_target', 'one resource per authorization request');
    let resource: string | null = null;
    if (req.resource !== undefined) {
      if (!this.resources) throw fail('invalid_target', 'this server takes no resource indicators');
      try {
        const audience = this.resources.audienceFor(req.resource);
        resource = audience === this.resources.brokerApi ? null : audience;
      } catch (err) {
        if (err instanceof OAuthError) throw fail(err.error, err.description);
        throw err;
      }
    }
    return {
      client,
      redirectUri,
      scope: openid ? [OPENID_SCOPE, ...scope] : scope,
      codeChallenge: req.code_challenge,
      nonce: req.nonce ?? null,
      resource,
    };
  }
}

function failure(err: unknown): {
  ok: false;
  error: string;
  error_description: string;
  redirectUri?: string;
} {
  if (err instanceof AuthorizeError)
    return { ok: false, error: err.error, error_description: err.description, redirectUri: err.redirectUri };
  throw err;
}

/**
 * Reads the signed-in person from an OIDC/OAuth userinfo endpoint (a bearer GET with a timeout).
 * Only `sub` is required; the standard profile claims are kept when present.
 */
export function userinfoEndpointReader(userinfoUrl: string, timeoutMs = 5_000): UpstreamProfileReader {
  return async (accessToken) => {
    let res: Response;
    try {
      res = await fetch(userinfoUrl, {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'error',
      });
    } catch {
      throw new UpstreamLoginError('the userinfo endpoint did not answer');
    }
    if (!res.ok) throw new UpstreamLoginError(`the userinfo endpoint answered ${res.status}`);
    const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    const sub = body?.['sub'] ?? body?.['id'];
    if (
      !body ||
      (typeof sub !== 'string' && typeof sub !== 'number') ||
      String(sub) === '' ||
      String(sub).includes('\u0000')
    ) {
      throw new UpstreamLoginError('the userinfo answer has no usable subject');
    }
    // PostgreSQL text cannot hold NUL: such a value is dropped rather than failing the sign-in.
    const text = (name: string) => {
      const value = body[name];
      return typeof value === 'string' && value.length <= 320 && !value.includes('\u0000') ? value : null;
    };
    const zoneinfo = text('zoneinfo');
    return {
      sub: String(sub).slice(0, 255),
      givenName: text('given_name'),
      familyName: text('family_name'),
      email: text('email'),
      // Only a literal true: some providers send "true" strings or omit it for unverified addresses.
      emailVerified: body['email_verified'] === true,
      zoneinfo: zoneinfo && isTimeZone(zoneinfo) ? zoneinfo : null,
    };
  };
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
