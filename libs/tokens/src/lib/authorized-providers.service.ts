import { DataSource } from 'typeorm';
import type {
  AccessTokenResponse,
  AuthorizedProvider,
  OAuthUser,
  OAuthUserResponse,
} from '@broker/contracts';
import { adapterFor, ProviderCallError } from '@broker/provider-adapters';
import { AuthorizationEntity } from './authorizations/authorization.entity';
import { AuthorizationsService } from './authorizations/authorizations.service';
import { revokeUpstream } from './authorizations/upstream-revocation';
import { toAuthorizedProvider } from './consent/authorized-provider-view';
import { EventSink, ProviderAccess, ProviderSummary } from './ports';
import { TokensError } from './tokens-error';
import { ServedToken, TokenPath } from './token-path';
import { toUserResponse } from './user-response';

/** A user's own authorizations (seed 000 "authorized providers"): list, unlink, token, userinfo. */
export class AuthorizedProvidersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly authorizations: AuthorizationsService,
    private readonly tokens: TokenPath,
    private readonly providers: ProviderAccess,
    private readonly fetchImpl: typeof fetch,
    private readonly publish: EventSink,
    summaries?: ProviderSummary,
  ) {
    // Without a summary port (the worker), the display falls back on the credentials it reads anyway.
    this.summary =
      summaries ??
      ((orgId, providerId) => this.providers(orgId, providerId).then((c) => c?.provider ?? null));
  }

  /** The provider's fields for display: never its client secret. */
  private readonly summary: ProviderSummary;

  async list(orgId: string, userId: string): Promise<AuthorizedProvider[]> {
    const rows = await this.dataSource
      .getRepository(AuthorizationEntity)
      .find({ where: { orgId, userId }, order: { createdAt: 'ASC' } });
    const out: AuthorizedProvider[] = [];
    for (const row of rows) {
      const provider = await this.summary(orgId, row.providerId);
      if (provider) out.push(toAuthorizedProvider(row, provider));
    }
    return out;
  }

  /** The user's authorization (never another user's or org's: those are NOT_FOUND). */
  async own(orgId: string, userId: string, id: string): Promise<AuthorizationEntity> {
    const row = /^[0-9a-f-]{36}$/i.test(id)
      ? await this.dataSource.getRepository(AuthorizationEntity).findOneBy({ id, orgId, userId })
      : null;
    if (!row) throw new TokensError('NOT_FOUND', 'Authorized provider not found.');
    return row;
  }

  /**
   * The id of the user's authorization at a provider (NOT_FOUND if none). With several accounts
   * there, `account` (the account's id at the provider or its label, any case) chooses one; without
   * it the answer is CONFLICT, listing the accounts to choose from.
   */
  async findId(orgId: string, userId: string, providerId: string, account?: string): Promise<string> {
    const rows = /^[0-9a-f-]{36}$/i.test(providerId)
      ? await this.dataSource
          .getRepository(AuthorizationEntity)
          .find({ where: { orgId, userId, providerId }, order: { createdAt: 'ASC' } })
      : [];
    const wanted = account?.toLowerCase();
    const chosen =
      wanted === undefined
        ? rows
        : rows.filter(
            (r) => r.accountId?.toLowerCase() === wanted || r.accountLabel?.toLowerCase() === wanted,
          );
    if (!chosen.length) throw new TokensError('NOT_FOUND', 'authorization not found');
    if (chosen.length > 1) {
      throw new TokensError(
        'CONFLICT',
        'The user linked several accounts at this provider: name one with `account` (its id or label), or give `authorizationId`.',
        chosen.map((r) => ({
          name: 'account',
          message: `${r.accountLabel ?? r.accountId ?? 'unknown account'} (authorization ${r.id})`,
        })),
      );
    }
    return chosen[0].id;
  }

  /**
   * Seed 000's answer for a served token (201 on REST): the token and its authorization, built from
   * what the token path served (no read of its own). The token itself was served by ConsumerTokens
   * (the consumer's policy decides first; GONE when re-consent is needed, FORBIDDEN while the
   * provider is not active).
   */
  async accessTokenResponse(orgId: string, served: ServedToken): Promise<AccessTokenResponse> {
    const provider = await this.summary(orgId, served.providerId);
    if (!provider) throw new TokensError('NOT_FOUND', 'The provider of this authorization no longer exists.');
    // A token was served, so the authorization is active (its status may have been re-read by the refresh).
    const authorization = {
      id: served.authorizationId,
      orgId,
      userId: served.userId,
      oauthClientId: served.oauthClientId,
      credentialId: served.credentialId,
      status: 'active',
      refreshTokenExpiresAt: served.refreshTokenExpiresAt,
      createdAt: served.createdAt,
    } as AuthorizationEntity;
    return {
      accessToken: served.accessToken,
      expiresAt: served.expiresAt ? served.expiresAt.toISOString() : null,
      authorizedOauthProvider: toAuthorizedProvider(authorization, provider),
    };
  }

  /**
   * The provider's user, fetched now with a valid token (and kept on the authorization). Seed 000's
   * statuses: 403 (FORBIDDEN) while the provider is not active, when it has no userinfo endpoint,
   * or when it refuses the call (a scope it requires, say); 410 (GONE) when the authorization is
   * dead or the provider no longer accepts its token (401). 503 only when the provider is down.
   */
  async userinfo(orgId: string, userId: string, id: string): Promise<OAuthUserResponse> {
    const row = await this.own(orgId, userId, id);
    const served = await this.tokens.acquire(orgId, id, undefined, undefined, userId);
    const credentials = await this.providers(orgId, row.providerId);
    if (!credentials)
      throw new TokensError('NOT_FOUND', 'The provider of this authorization no longer exists.');
    const adapter = adapterFor(credentials.resolved);
    if (!adapter.capabilities(credentials.resolved).userInfo) {
      throw new TokensError('FORBIDDEN', 'This provider has no user information endpoint.', [
        { name: 'providerType', message: credentials.provider.type },
      ]);
    }
    let user: OAuthUser;
    try {
      user = await adapter.userInfo(
        {
          provider: credentials.resolved,
          clientId: credentials.provider.clientId,
          fetch: this.fetchImpl,
          timeoutMs: 8_000,
        },
        served.accessToken,
      );
    } catch (err) {
      const failure =
        err instanceof ProviderCallError
          ? err
          : new ProviderCallError('transient', 'the provider could not be reached');
      if (failure.kind === 'transient')
        throw new TokensError('UNAVAILABLE', 'The provider did not answer; try again.');
      if (failure.kind === 'invalid_grant' && failure.httpStatus === 401) {
        // Not marked here: the next refresh decides whether the grant itself is dead.
        throw new TokensError(
          'GONE',
          'The provider no longer accepts this authorization’s token: the user may need to authorize the provider again.',
        );
      }
      throw new TokensError('FORBIDDEN', `The provider refused the userinfo request (${failure.message}).`);
    }
    await this.dataSource
      .getRepository(AuthorizationEntity)
      .update({ id, orgId }, { externalUser: user as never });
    return toUserResponse(user);
  }

  /**
   * Unlinks: revokes at the provider (best effort, bounded) and removes the authorization whatever
   * the provider answers, recording the outcome.
   */
  async remove(
    orgId: string,
    userId: string,
    id: string,
  ): Promise<{ revoked: boolean; revocationError?: string }> {
    const row = await this.own(orgId, userId, id);
    let outcome: { revoked: boolean; revocationError?: string } = { revoked: false };
    try {
      const credentials = await this.providers(orgId, row.providerId);
      const tokens = await this.authorizations.tokens(orgId, id);
      if (credentials && tokens) {
        const result = await revokeUpstream(
          {
            resolved: credentials.resolved,
            clientId: credentials.provider.clientId,
            clientSecret: credentials.clientSecret,
          },
          tokens.refreshToken
            ? { value: tokens.refreshToken, hint: 'refresh_token' }
            : { value: tokens.accessToken, hint: 'access_token' },
          this.fetchImpl,
        );
        outcome = result.revoked
          ? { revoked: true }
          : {
              revoked: false,
              revocationError: result.unsupported
                ? 'token revocation is not supported by this provider: revoke the app in its settings'
                : result.error,
            };
      }
    } catch (err) {
      outcome = { revoked: false, revocationError: err instanceof Error ? err.message : 'revocation failed' };
    }
    await this.dataSource.query(
      `INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail) VALUES ($1, $2, 'unlinked', $3)`,
      [
        orgId,
        id,
        outcome.revoked
          ? 'revoked at the provider'
          : `not revoked at the provider: ${outcome.revocationError ?? 'no tokens'}`,
      ],
    );
    await this.authorizations.remove(orgId, id);
    this.tokens.forget(id);
    void this.publish({
      type: 'authorization.revoked',
      orgId,
      authorizationId: id,
      providerId: row.providerId,
      userId: row.userId,
      status: row.status,
      at: new Date().toISOString(),
    });
    return outcome;
  }
}
