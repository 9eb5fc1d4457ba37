import type { DelegatedTokenRequest, Principal, TokenResponse } from '@broker/contracts';
import { DELEGATE_SCOPE, isServiceAccount } from '@broker/auth-kit';
import { AccessTokenIssuer } from './access-tokens';
import type { ClientsService } from './clients.service';
import { personScope } from './sign-in-policy';
import { UsersService } from './users.service';

/** Why a principal or delegated token was refused: an HTTP-like status and a message for the caller. */
export class PrincipalTokenError extends Error {
  constructor(
    readonly status: 401 | 403 | 404 | 422,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Fresh tokens for the authenticated principal, and delegated tokens for another subject of its
 * org. Neither outlives the right it stands on: the client, the person and the one acting must
 * still exist and be enabled, and the scopes never exceed what the client still has.
 */
export class PrincipalTokens {
  constructor(
    private readonly users: UsersService,
    private readonly issuer: AccessTokenIssuer,
    private readonly ttlSeconds: number,
    private readonly delegatedTtlSeconds: number,
    private readonly clients: ClientsService,
  ) {}

  /** A new token for the same principal, scopes (no wider than the client's now), session and delegation as the one presented. */
  async principalToken(caller: Principal): Promise<TokenResponse> {
    const allowed = await this.stillAllowed(caller);
    const ttl = caller.act ? Math.min(this.ttlSeconds, this.delegatedTtlSeconds) : this.ttlSeconds;
    const scope = caller.scopes.filter((s) => s === 'openid' || allowed.includes(s));
    const { token, expiresIn } = await this.issuer.issue({
      sub: caller.sub,
      orgId: caller.orgId,
      clientId: caller.clientId,
      scope,
      ttlSeconds: ttl,
      act: caller.act,
      sid: caller.sid,
    });
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scope.join(' ') };
  }

  /**
   * Checks that the caller's client, subject and actor still have access (a revoked token is
   * refused earlier, by the verifier; this closes the window before its revocation reaches it);
   * returns what the principal may have now: the client's scopes, and for a signed-in person the
   * client's ∩ their own (as at sign-in).
   */
  private async stillAllowed(caller: Principal): Promise<string[]> {
    const gone = () => new PrincipalTokenError(401, 'the token’s client or user no longer has access');
    const client = await this.clients.findActive(caller.orgId, caller.clientId);
    if (!client) throw gone();
    const actor = caller.act?.sub;
    if (actor && actor !== caller.act?.client_id && !(await this.users.findActive(caller.orgId, actor)))
      throw gone();
    if (isServiceAccount(caller)) return client.scopes;
    const user = await this.users.findActive(caller.orgId, caller.sub);
    if (!user) throw gone();
    return caller.act ? client.scopes : personScope(client.scopes, client, user);
  }

  /**
   * A token for `sub`, a user of the caller's own org, carrying `act` (who acts), with scopes no
   * wider than the caller's (and never the delegate scope itself), living at most the delegated TTL.
   */
  async delegatedToken(caller: Principal, req: DelegatedTokenRequest): Promise<TokenResponse> {
    if (!caller.scopes.includes(DELEGATE_SCOPE))
      throw new PrincipalTokenError(403, `delegation needs the ${DELEGATE_SCOPE} scope`);
    if (caller.act) throw new PrincipalTokenError(403, 'a delegated token cannot delegate further');
    if (req.team_id != null && req.team_id !== caller.orgId)
      throw new PrincipalTokenError(403, 'team_id must be your own team');
    const allowed = await this.stillAllowed(caller);
    if (!allowed.includes(DELEGATE_SCOPE))
      throw new PrincipalTokenError(403, `delegation needs the ${DELEGATE_SCOPE} scope`);
    const delegable = caller.scopes.filter((s) => s !== DELEGATE_SCOPE && allowed.includes(s));
    const scopes = req.scopes == null ? delegable : [...new Set(req.scopes)];
    const wider = scopes.filter((s) => !delegable.includes(s));
    if (wider.length)
      throw new PrincipalTokenError(403, `cannot delegate scopes you do not hold: ${wider.join(' ')}`);
    const user = await this.users.findActive(caller.orgId, req.sub);
    if (!user) throw new PrincipalTokenError(404, 'no such user in your team');
    const { token, expiresIn } = await this.issuer.issue({
      sub: user.sub,
      orgId: caller.orgId,
      clientId: caller.clientId,
      scope: scopes,
      ttlSeconds: Math.min(this.ttlSeconds, this.delegatedTtlSeconds),
      act: { sub: caller.sub, client_id: caller.clientId },
      // A delegation made from a sign-in session ends with it.
      sid: caller.sid,
    });
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: scopes.join(' ') };
  }
}
