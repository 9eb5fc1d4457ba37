import { GRANT_TYPES, GrantType, TokenRequest, TokenResponse } from '@broker/contracts';
import { AccessTokenIssuer } from './access-tokens';
import { ClientsService } from './clients.service';
import { OAuthError } from './oauth-error';

/** The broker's `/oauth/token`: authenticates the client and runs the grant. */
export class TokenEndpoint {
  constructor(
    private readonly clients: ClientsService,
    private readonly issuer: AccessTokenIssuer,
    private readonly accessTokenTtlSeconds: number,
  ) {}

  async handle(req: TokenRequest): Promise<TokenResponse> {
    if (req.basic && (req.client_id || req.client_secret) && req.client_id !== req.basic.clientId) {
      throw new OAuthError('invalid_request', 'use one client authentication method');
    }
    const clientId = req.basic?.clientId ?? req.client_id;
    const clientSecret = req.basic?.clientSecret ?? req.client_secret;
    if (!clientId || !clientSecret) throw new OAuthError('invalid_client', 'client authentication is required');
    if (!req.grant_type) throw new OAuthError('invalid_request', 'grant_type is required');
    if (!(GRANT_TYPES as readonly string[]).includes(req.grant_type)) {
      throw new OAuthError('unsupported_grant_type', `grant_type '${req.grant_type}' is not supported`);
    }
    const client = await this.clients.authenticate(clientId, clientSecret);
    const grant = req.grant_type as GrantType;
    if (!client.grantTypes.includes(grant)) throw new OAuthError('unauthorized_client', `this client may not use ${grant}`);
    if (grant !== 'client_credentials') {
      throw new OAuthError('unsupported_grant_type', `grant_type '${grant}' is not enabled on this server yet`);
    }
    const scope = grantedScope(req.scope, client.scopes);
    const { token, expiresIn } = await this.issuer.issue({
      sub: client.id,
      orgId: client.orgId,
      clientId: client.id,
      scope,
      ttlSeconds: this.accessTokenTtlSeconds,
    });
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scope.join(' ') };
  }
}

/** The requested scopes (all the client may have when none are asked for); never wider than allowed. */
export function grantedScope(requested: string | undefined, allowed: string[]): string[] {
  if (requested === undefined || requested.trim() === '') return [...allowed];
  const asked = [...new Set(requested.trim().split(/\s+/))];
  const extra = asked.filter((s) => !allowed.includes(s));
  if (extra.length) throw new OAuthError('invalid_scope', `scope not allowed for this client: ${extra.join(' ')}`);
  return asked;
}
