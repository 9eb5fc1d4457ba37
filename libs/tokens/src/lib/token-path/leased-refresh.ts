import type { AuthorizationStatus } from '@broker/contracts';
import { ProviderCallError, ProviderTokenSet, adapterFor } from '@broker/provider-adapters';
import type { ProviderAccess } from '../ports';
import { TokensError } from '../tokens-error';
import type { AuthorizationJournal } from './authorization-journal';
import type { CredentialRepository, CredentialRow, Lease } from './credential-repository';
import type { HotTokens } from './hot-tokens';
import type { ServedToken, TokenPathFaults, TokenPathOptions } from './options';
import type { RefreshCandidates } from './refresh-candidates';
import { gone, providerBlocked, providerMissing } from './refusals';
import { ServeableTokens, facts } from './serveable';
import { refreshResultOf, tokenObserver } from '../observability/token-observer';

/** What a refresh under lease works with (the token path's parts). */
export interface LeasedRefreshParts {
  credentials: CredentialRepository;
  serveable: ServeableTokens;
  journal: AuthorizationJournal;
  candidates: RefreshCandidates;
  hot: HotTokens;
  providers: ProviderAccess;
  fetchImpl: typeof fetch;
  options: TokenPathOptions;
  faults?: TokenPathFaults;
}

/**
 * The refresh itself, run by the holder of the lease: calls the provider with the stored refresh
 * token (renewing the lease while the call runs), writes the answer first thing by compare-and-swap
 * (or keeps it as a candidate when the lease was lost), and turns a refusal into the
 * authorization's new status. Where a refresh token is rotated.
 */
export class LeasedRefresh {
  constructor(private readonly p: LeasedRefreshParts) {}

  async run(
    orgId: string,
    authorizationId: string,
    lease: Lease,
    min: number,
    since: number,
  ): Promise<ServedToken> {
    const { credentials, journal } = this.p;
    if (lease.abandoned_until) {
      // Its holder renews a lease while it waits on the provider: one that lapsed means the holder
      // stopped mid-refresh (or is stuck). If the provider had rotated the refresh token for it,
      // that token is lost and the refresh below will be refused: say so for the operator.
      await journal.audit(
        orgId,
        authorizationId,
        'refresh.abandoned',
        `the previous refresh lease lapsed at ${new Date(lease.abandoned_until).toISOString()} without a write (its replica stopped or stalled); a refresh token it may have received is not known here`,
      );
    }
    // A sibling may have written just before we took the lease.
    const before = await credentials.read(orgId, authorizationId);
    const already = this.p.serveable.from(before, authorizationId, min, since);
    if (already) {
      await credentials.releaseLease(lease);
      return already;
    }
    if (!before || before.status !== 'active') {
      await credentials.releaseLease(lease);
      throw gone(before?.status ?? 'expired');
    }
    if (!lease.refresh_token) {
      await credentials.releaseLease(lease);
      await this.setStatus(
        orgId,
        authorizationId,
        before,
        'expired',
        'the access token expired and the provider gave no refresh token',
      );
      throw gone('expired');
    }
    const access = await this.p.providers(orgId, before.provider_id);
    if (!access) {
      await credentials.releaseLease(lease);
      throw providerMissing();
    }
    if (access.provider.status !== 'active') {
      // Blocked, not dead: the authorization stays as it is for when the provider is re-activated.
      await credentials.releaseLease(lease);
      throw providerBlocked(access.provider.status);
    }
    const refreshToken = credentials.decryptRefreshToken(orgId, lease, lease.refresh_token);
    let tokens: ProviderTokenSet;
    const { leaseMs, providerTimeoutMs } = this.p.options;
    const heartbeat = setInterval(
      () => void credentials.renewLease(lease).catch(() => undefined),
      Math.max(leaseMs / 4, 250),
    );
    try {
      tokens = await adapterFor(access.resolved).refresh(
        {
          provider: access.resolved,
          clientId: access.provider.clientId,
          clientSecret: access.clientSecret,
          fetch: this.p.fetchImpl,
          timeoutMs: providerTimeoutMs,
        },
        refreshToken,
      );
    } catch (err) {
      clearInterval(heartbeat);
      tokenObserver.refreshed(refreshResultOf(err), access.resolved.type);
      return this.failed(orgId, authorizationId, lease, before, min, err);
    }
    clearInterval(heartbeat);
    tokenObserver.refreshed('ok', access.resolved.type);
    await this.p.faults?.afterProviderAnswer?.();
    // Persist before anything else is done with the answer (a rotated refresh token must not be lost).
    this.p.hot.forget(authorizationId);
    const written = await credentials.write(orgId, lease, tokens);
    if (!written) await this.p.candidates.keep(orgId, authorizationId, lease, tokens);
    // A rotated refresh token comes with its own lifetime (GitHub's refresh_token_expires_in), or none known.
    const refreshTokenExpiresAt =
      written && tokens.refreshToken
        ? (tokens.refreshTokenExpiresAt ?? null)
        : before.refresh_token_expires_at;
    await credentials.countSuccess(orgId, authorizationId, refreshTokenExpiresAt);
    journal.emit('authorization.refreshed', orgId, authorizationId, before, 'active');
    return {
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      expiresAt: tokens.expiresAt ?? null,
      authorizationId,
      providerId: before.provider_id,
      userId: before.user_id,
      scopes: before.scopes,
      ...facts(before, lease.id),
      refreshTokenExpiresAt,
      refreshed: true,
    };
  }

  private async failed(
    orgId: string,
    authorizationId: string,
    lease: Lease,
    before: CredentialRow,
    min: number,
    err: unknown,
  ): Promise<ServedToken> {
    const { credentials, serveable } = this.p;
    await credentials.releaseLease(lease);
    const failure =
      err instanceof ProviderCallError ? err : new ProviderCallError('transient', 'refresh failed');
    await credentials.countFailure(orgId, authorizationId);
    if (failure.kind === 'invalid_grant') {
      // A sibling may have rotated the refresh token under us: only a row that did not move is dead.
      const now = await credentials.read(orgId, authorizationId);
      if (now && now.generation !== lease.generation) {
        const served = serveable.from(now, authorizationId, min);
        if (served) return served;
      }
      await this.setStatus(orgId, authorizationId, before, 'expired', failure.message);
      throw gone('expired');
    }
    if (failure.kind === 'invalid_client') {
      await this.setStatus(orgId, authorizationId, before, 'invalidOAuthClient', failure.message);
      throw gone('invalidOAuthClient');
    }
    await this.p.journal.audit(
      orgId,
      authorizationId,
      'refresh.failed',
      `${failure.kind}: ${failure.message}`,
    );
    // Transient: the authorization stays active; a token that is still valid is better than none.
    const current = serveable.from(
      await credentials.read(orgId, authorizationId),
      authorizationId,
      this.p.options.minimumServedSeconds,
    );
    if (current) return current;
    throw new TokensError(
      'UNAVAILABLE',
      `the provider could not refresh the token (${failure.message}); try again`,
    );
  }

  private async setStatus(
    orgId: string,
    authorizationId: string,
    row: CredentialRow,
    status: AuthorizationStatus,
    reason: string,
  ): Promise<void> {
    this.p.hot.forget(authorizationId);
    await this.p.journal.setStatus(orgId, authorizationId, row, status, reason);
  }
}
