import { DEFAULT_TIME_ZONE, GRANT_TYPES, GrantType, TokenRequest, TokenResponse } from '@broker/contracts';
import { AccessTokenIssuer, IdTokenIssuer } from './access-tokens';
import { ClientsService } from './clients.service';
import { GrantSubject, GrantsService } from './grants.service';
import { OAuthError } from './oauth-error';
import { UsersService } from './users.service';
import { OPENID_SCOPE } from '@broker/auth-kit';
import { ResourceIndicators } from './resource-indicators';
import { looksLikeClientIdUrl } from './client-metadata/client-id-url';
import type { MetadataDocumentClients } from './client-metadata/metadata-document-clients';
import type { OAuthClientEntity } from './entities/oauth-client.entity';

/** The broker's `/oauth/token`: authenticates the client and runs the grant. */
export class TokenEndpoint {
  constructor(
    private readonly clients: ClientsService,
    private readonly issuer: AccessTokenIssuer,
    private readonly accessTokenTtlSeconds: number,
    private readonly grants: GrantsService,
    private readonly idTokens?: { issuer: IdTokenIssuer; users: UsersService },
    private readonly resources?: ResourceIndicators,
    private readonly metadataClients?: MetadataDocumentClients,
  ) {}

  async handle(req: TokenRequest): Promise<TokenResponse> {
    const publicClientId = this.publicClientId(req);
    const credentials = publicClientId === undefined ? clientCredentials(req) : undefined;
    if (!req.grant_type) throw new OAuthError('invalid_request', 'grant_type is required');
    if (!(GRANT_TYPES as readonly string[]).includes(req.grant_type)) {
      throw new OAuthError('unsupported_grant_type', `grant_type '${req.grant_type}' is not supported`);
    }
    const client = credentials
      ? await this.clients.authenticate(credentials.clientId, credentials.clientSecret)
      : await this.publicClient(publicClientId ?? '');
    const grant = req.grant_type as GrantType;
    if (!client.grantTypes.includes(grant))
      throw new OAuthError('unauthorized_client', `this client may not use ${grant}`);
    if (grant === 'authorization_code') {
      if (!req.code) throw new OAuthError('invalid_request', 'code is required');
      this.checkResource(req.resource);
      const { grant: g, refreshToken } = await this.grants.redeemCode(
        req.code,
        client.id,
        req.redirect_uri,
        req.code_verifier,
      );
      this.sameResource(req.resource, g.resource);
      return this.userTokens({ ...g, zoneinfo: zoneOf(req, g) }, g.scope, refreshToken);
    }
    if (grant === 'refresh_token') {
      if (!req.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required');
      // A refresh may ask for less than was granted, never more (RFC 6749 §6): checked before the
      // refresh token is spent, so a refused scope leaves it usable.
      this.checkResource(req.resource);
      const { grant: g, refreshToken } = await this.grants.rotateRefresh(
        req.refresh_token,
        client.id,
        req.scope,
      );
      this.sameResource(req.resource, g.resource);
      return this.userTokens({ ...g, nonce: null, zoneinfo: zoneOf(req, g) }, g.scope, refreshToken);
    }
    const scope = grantedScope(req.scope, client.scopes);
    const { token, expiresIn } = await this.issuer.issue({
      sub: client.id,
      orgId: client.orgId,
      clientId: client.id,
      scope,
      ttlSeconds: this.accessTokenTtlSeconds,
      zoneinfo: zoneOf(req),
      audience: this.audienceFor(req.resource),
    });
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scope.join(' ') };
  }

  /**
   * A client identified by URL (client ID metadata document) is public: it sends only `client_id`
   * (`token_endpoint_auth_method` none) and proves itself by PKCE, which every code requires.
   */
  private publicClientId(req: TokenRequest): string | undefined {
    if (
      !this.metadataClients ||
      req.basic ||
      req.client_secret ||
      !req.client_id ||
      !looksLikeClientIdUrl(req.client_id)
    )
      return undefined;
    return req.client_id;
  }

  private async publicClient(clientId: string): Promise<OAuthClientEntity> {
    const client = await this.metadataClients?.resolve(clientId);
    // A registered client whose id looks like a URL still authenticates with its secret.
    if (!client || client.kind !== 'metadata_document')
      throw new OAuthError('invalid_client', 'client authentication is required');
    return client;
  }

  private audienceFor(resource: string | undefined): string | undefined {
    if (resource === undefined) return undefined;
    if (!this.resources) throw new OAuthError('invalid_target', 'this server takes no resource indicators');
    return this.resources.audienceFor(resource);
  }

  /** A `resource` on the token request must be known (checked before a code or refresh token is spent). */
  private checkResource(resource: string | undefined): void {
    this.audienceFor(resource);
  }

  /**
   * RFC 8707 §2.2: a code or refresh token is for the resource it was granted for; naming another
   * one is invalid_target (the broker does not re-target a grant).
   */
  private sameResource(asked: string | undefined, granted: string | null | undefined): void {
    if (asked === undefined) return;
    const audience = this.audienceFor(asked);
    const grantedAudience = granted ?? this.resources?.brokerApi;
    if (audience !== grantedAudience)
      throw new OAuthError('invalid_target', 'resource differs from the one this grant was issued for');
  }

  private async userTokens(
    grant: GrantSubject,
    scope: string[],
    refreshToken: string,
  ): Promise<TokenResponse> {
    const { token, expiresIn } = await this.issuer.issue({
      sub: grant.sub,
      orgId: grant.orgId,
      clientId: grant.clientId,
      scope,
      ttlSeconds: this.accessTokenTtlSeconds,
      zoneinfo: grant.zoneinfo ?? undefined,
      sid: grant.familyId,
      ...(grant.resource ? { audience: grant.resource } : {}),
    });
    const response: TokenResponse = {
      access_token: token,
      token_type: 'Bearer',
      expires_in: expiresIn,
      scope: scope.join(' '),
      refresh_token: refreshToken,
    };
    if (this.idTokens && scope.includes(OPENID_SCOPE)) {
      const user = await this.idTokens.users.userInfo(grant.orgId, grant.sub);
      response.id_token = await this.idTokens.issuer.issue({
        sub: grant.sub,
        orgId: grant.orgId,
        clientId: grant.clientId,
        nonce: grant.nonce,
        ttlSeconds: this.accessTokenTtlSeconds,
        profile: user
          ? {
              name: user.name,
              given_name: user.given_name,
              family_name: user.family_name,
              email: user.email,
              zoneinfo: grant.zoneinfo,
            }
          : undefined,
      });
    }
    return response;
  }
}

/**
 * Seed 003's `tz`, on every grant: the time zone named by the request, else the one the person's
 * grant recorded at sign-in, else the seed's default. It becomes the tokens' `zoneinfo` claim.
 */
function zoneOf(req: TokenRequest, grant?: GrantSubject): string {
  return req.tz || grant?.zoneinfo || DEFAULT_TIME_ZONE;
}

/** The client's id and secret from HTTP Basic or the body (one method only); `invalid_client` without them. */
export function clientCredentials(req: {
  basic?: { clientId: string; clientSecret: string };
  client_id?: string;
  client_secret?: string;
}): {
  clientId: string;
  clientSecret: string;
} {
  if (req.basic && (req.client_id || req.client_secret) && req.client_id !== req.basic.clientId) {
    throw new OAuthError('invalid_request', 'use one client authentication method');
  }
  const clientId = req.basic?.clientId ?? req.client_id;
  const clientSecret = req.basic?.clientSecret ?? req.client_secret;
  if (!clientId || !clientSecret) throw new OAuthError('invalid_client', 'client authentication is required');
  return { clientId, clientSecret };
}

/** The requested scopes (all the client may have when none are asked for); never wider than allowed. */
export function grantedScope(requested: string | undefined, allowed: string[]): string[] {
  if (requested === undefined || requested.trim() === '') return [...allowed];
  const asked = [...new Set(requested.trim().split(/\s+/))];
  const extra = asked.filter((s) => !allowed.includes(s));
  if (extra.length)
    throw new OAuthError('invalid_scope', `scope not allowed for this client: ${extra.join(' ')}`);
  return asked;
}
