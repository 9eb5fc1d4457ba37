import { TokensError } from '../tokens-error';
import type { CredentialRepository } from './credential-repository';
import { sleep, withDeadline } from './deadline';
import type { LeasedRefresh } from './leased-refresh';
import type { ServedToken, TokenPathOptions } from './options';
import { ServeableTokens, remaining } from './serveable';
import { tokenObserver } from '../observability/token-observer';

/** What a caller waits for: a token of `authorizationId` with `min` seconds left, or one written after generation `since`. */
interface Want {
  orgId: string;
  authorizationId: string;
  min: number;
  since: number;
}

/**
 * One refresh per authorization across every replica: callers in this process share one promise;
 * across processes the refresh lease on the credential row decides who calls the provider, and the
 * others poll the row until the holder's write shows (or its lease lapses and one of them takes over).
 */
export class RefreshFlight {
  private readonly inflight = new Map<string, Promise<ServedToken>>();

  constructor(
    private readonly credentials: CredentialRepository,
    private readonly serveable: ServeableTokens,
    private readonly leased: LeasedRefresh,
    private readonly options: TokenPathOptions,
  ) {}

  /**
   * `since`: the generation the caller saw. A token refreshed after that is the best there is: it is
   * served even when the provider's lifetime is shorter than the caller asked for (no refresh loop).
   */
  async refresh(
    orgId: string,
    authorizationId: string,
    min: number,
    deadline: number,
    since: number,
  ): Promise<ServedToken> {
    const want: Want = { orgId, authorizationId, min, since };
    for (;;) {
      const running = this.inflight.get(authorizationId);
      if (!running) break;
      const result = await withDeadline(running, deadline).catch((err: unknown) => {
        if (err instanceof TokensError) throw err;
        return null;
      });
      // A refresh that finished after we came is the freshest token there is.
      if (result && remaining(result.expiresAt) >= this.options.minimumServedSeconds)
        return { ...result, refreshed: false };
      // The shared refresh failed transiently: look again ourselves.
      const served = await this.servedFromRow(want);
      if (served) return served;
      if (this.inflight.get(authorizationId) === running) this.inflight.delete(authorizationId);
    }
    const promise = this.refreshWithLease(want, deadline).finally(() => {
      if (this.inflight.get(authorizationId) === promise) this.inflight.delete(authorizationId);
    });
    this.inflight.set(authorizationId, promise);
    return withDeadline(promise, deadline);
  }

  private async refreshWithLease(want: Want, deadline: number): Promise<ServedToken> {
    const { orgId, authorizationId, min, since } = want;
    for (;;) {
      const lease = await this.credentials.takeLease(orgId, authorizationId);
      if (lease) return this.leased.run(orgId, authorizationId, lease, min, since);
      // Another replica holds the lease: wait for its write (or for the lease to lapse).
      if (Date.now() > deadline)
        throw new TokensError('UNAVAILABLE', 'the token is being refreshed; try again');
      tokenObserver.leaseWaited();
      await sleep(this.options.pollMs);
      const served = await this.servedFromRow(want);
      if (served) return served;
    }
  }

  /** Reads the row again and serves it if it now holds a good enough token (null: it does not). */
  private async servedFromRow(want: Want): Promise<ServedToken | null> {
    const row = await this.credentials.read(want.orgId, want.authorizationId);
    return this.serveable.from(row, want.authorizationId, want.min, want.since);
  }
}
