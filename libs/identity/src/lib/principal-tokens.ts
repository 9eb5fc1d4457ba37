import type { DelegatedTokenRequest, Principal, TokenResponse } from '@broker/contracts';
import { AccessTokenIssuer } from './access-tokens';
import { UsersService } from './users.service';

/** Why a principal or delegated token was refused: an HTTP-like status and a message for the caller. */
export class PrincipalTokenError extends Error {
  constructor(
    readonly status: 403 | 404 | 422,
    message: string,
  ) {
    super(message);
  }
}

/** Scope that lets a caller obtain tokens for other subjects of its org. */
export const DELEGATE_SCOPE = 'tokens:delegate';

/** Fresh tokens for the authenticated principal, and delegated tokens for another subject of its org. */
export class PrincipalTokens {
  constructor(
    private readonly users: UsersService,
    private readonly issuer: AccessTokenIssuer,
    private readonly ttlSeconds: number,
    private readonly delegatedTtlSeconds: number,
  ) {}

  /** A new token for the same principal, scopes and delegation as the one presented. */
  async principalToken(caller: Principal): Promise<TokenResponse> {
    const ttl = caller.act ? Math.min(this.ttlSeconds, this.delegatedTtlSeconds) : this.ttlSeconds;
    const { token, expiresIn } = await this.issuer.issue({
      sub: caller.sub,
      orgId: caller.orgId,
      clientId: caller.clientId,
      scope: caller.scopes,
      ttlSeconds: ttl,
      act: caller.act,
    });
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: caller.scopes.join(' ') };
  }

  /**
   * A token for `sub`, a user of the caller's own org, carrying `act` (who acts), with scopes no
   * wider than the caller's (and never the delegate scope itself), living at most the delegated TTL.
   */
  async delegatedToken(caller: Principal, req: DelegatedTokenRequest): Promise<TokenResponse> {
    if (!caller.scopes.includes(DELEGATE_SCOPE)) throw new PrincipalTokenError(403, `delegation needs the ${DELEGATE_SCOPE} scope`);
    if (caller.act) throw new PrincipalTokenError(403, 'a delegated token cannot delegate further');
    if (req.team_id != null && req.team_id !== caller.orgId) throw new PrincipalTokenError(403, 'team_id must be your own team');
    const delegable = caller.scopes.filter((s) => s !== DELEGATE_SCOPE);
    const scopes = req.scopes == null ? delegable : [...new Set(req.scopes)];
    const wider = scopes.filter((s) => !delegable.includes(s));
    if (wider.length) throw new PrincipalTokenError(403, `cannot delegate scopes you do not hold: ${wider.join(' ')}`);
    const user = await this.users.find(caller.orgId, req.sub);
    if (!user) throw new PrincipalTokenError(404, 'no such user in your team');
    if (user.disabled) throw new PrincipalTokenError(403, 'this user is disabled');
    const { token, expiresIn } = await this.issuer.issue({
      sub: user.sub,
      orgId: caller.orgId,
      clientId: caller.clientId,
      scope: scopes,
      ttlSeconds: Math.min(this.ttlSeconds, this.delegatedTtlSeconds),
      act: { sub: caller.sub, client_id: caller.clientId },
    });
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scopes.join(' ') };
  }
}
