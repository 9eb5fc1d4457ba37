import type { AccessTokenClaims, TokenIntrospection, TokenRevocationRequest } from '@broker/contracts';
import { AccessTokenVerifier, InvalidAccessTokenError } from '@broker/auth-kit';
import { ClientsService } from './clients.service';
import { GrantsService } from './grants.service';
import { OAuthError } from './oauth-error';
import { RevocationsService } from './revocation/revocations.service';
import { clientCredentials } from './token-endpoint';

const HINTS = ['access_token', 'refresh_token'] as const;
const looksLikeJwt = (token: string) => token.split('.').length === 3;

/**
 * RFC 7009 revocation and RFC 7662 introspection of the broker's own tokens, for authenticated
 * clients: a client revokes only its own tokens, and introspection tells a client of one org
 * nothing about another org's tokens (`active: false`, as for an unknown token).
 */
export class TokenStatusEndpoints {
  constructor(
    private readonly clients: ClientsService,
    private readonly grants: GrantsService,
    private readonly verifier: AccessTokenVerifier,
    private readonly revocations: RevocationsService,
  ) {}

  /** Revokes an access token (until it expires) or a refresh token's whole family. Unknown tokens are not an error (RFC 7009 §2.2). */
  async revoke(req: TokenRevocationRequest): Promise<void> {
    const { clientId, clientSecret } = clientCredentials(req);
    const client = await this.clients.authenticate(clientId, clientSecret);
    const token = requireToken(req);
    for (const kind of this.order(req, token)) {
      if (kind === 'access_token') {
        const claims = await this.claims(token);
        if (!claims) continue;
        if (claims.client_id !== client.id || claims.org_id !== client.orgId) throw notYours();
        await this.revocations.revokeNow(async (em) => [
          await this.revocations.revokeToken(em, claims.org_id, claims.jti, claims.exp),
        ]);
        return;
      }
      const family = await this.grants.revokeFamily(token, client.id);
      if (family === 'other-client') throw notYours();
      if (family) return;
    }
  }

  /** Whether a token is active, and what it grants, for a client of the same org. */
  async introspect(req: TokenRevocationRequest): Promise<TokenIntrospection> {
    const { clientId, clientSecret } = clientCredentials(req);
    const client = await this.clients.authenticate(clientId, clientSecret);
    const token = requireToken(req);
    for (const kind of this.order(req, token)) {
      if (kind === 'access_token') {
        let claims: AccessTokenClaims;
        try {
          // A resource server introspects the tokens bound to it (RFC 8707): every audience the broker issues for.
          claims = await this.verifier.verify(token, this.verifier.audiences);
        } catch (err) {
          if (err instanceof InvalidAccessTokenError) continue;
          throw err;
        }
        if (claims.org_id !== client.orgId) return { active: false };
        const answer: TokenIntrospection = {
          active: true,
          scope: claims.scope,
          client_id: claims.client_id,
          sub: claims.sub,
          exp: claims.exp,
          iat: claims.iat,
          iss: claims.iss,
          aud: claims.aud,
          jti: claims.jti,
          token_type: 'Bearer',
          org_id: claims.org_id,
        };
        if (claims.act) answer.act = claims.act;
        return answer;
      }
      // A refresh token is a credential of its client: only that client learns about it.
      const grant = await this.grants.describeRefresh(token, client.id);
      if (grant) {
        return {
          active: true,
          scope: grant.scope.join(' '),
          client_id: grant.clientId,
          sub: grant.sub,
          exp: Math.floor(grant.expiresAt.getTime() / 1000),
          iat: Math.floor(grant.issuedAt.getTime() / 1000),
          token_type: 'refresh_token',
          org_id: grant.orgId,
        };
      }
    }
    return { active: false };
  }

  /** Which kinds to try, the hinted one first (an unknown hint is ignored, RFC 7009 §2.1). */
  private order(req: TokenRevocationRequest, token: string): (typeof HINTS)[number][] {
    const hint = (HINTS as readonly string[]).includes(req.token_type_hint ?? '')
      ? (req.token_type_hint as (typeof HINTS)[number])
      : undefined;
    const first = hint ?? (looksLikeJwt(token) ? 'access_token' : 'refresh_token');
    return first === 'access_token' ? ['access_token', 'refresh_token'] : ['refresh_token', 'access_token'];
  }

  private async claims(token: string): Promise<AccessTokenClaims | null> {
    if (!looksLikeJwt(token)) return null;
    try {
      return await this.verifier.verifyIgnoringRevocation(token);
    } catch (err) {
      if (err instanceof InvalidAccessTokenError) return null;
      throw err;
    }
  }
}

function requireToken(req: TokenRevocationRequest): string {
  if (typeof req.token !== 'string' || req.token === '')
    throw new OAuthError('invalid_request', 'token is required');
  return req.token;
}

function notYours(): OAuthError {
  return new OAuthError('unauthorized_client', 'the token was not issued to this client');
}
