import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type {
  AccessTokenClaims,
  RevocationEntry,
  RevocationKind,
  RevocationSnapshot,
} from '@broker/contracts';

/**
 * The key of a revocation entry: a hash of what it revokes, so the list (stored, sent over the bus,
 * held by every verifier) names no client, user or token. 128 bits: collisions are not a concern.
 */
export function revocationKey(kind: RevocationKind, orgId: string, value: string): string {
  return createHash('sha256').update(`${kind}\u0000${orgId}\u0000${value}`).digest('base64url').slice(0, 22);
}

/** The digest that versions a list of entries (same entries, same version, whatever their order). */
export function revocationsVersion(entries: RevocationEntry[]): string {
  const lines = entries.map((e) => `${e.h}:${e.nb ?? ''}:${e.exp}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('base64url').slice(0, 22);
}

/** The verifier cannot tell whether a token was revoked: its list is older than the staleness bound. */
export class RevocationStateUnavailableError extends Error {
  constructor(message = 'the revocation list is not current; try again shortly') {
    super(message);
    this.name = 'RevocationStateUnavailableError';
  }
}

/** The live revocations as one process holds them, with when they were read from PostgreSQL. */
export class RevocationList {
  private entries = new Map<string, RevocationEntry>();
  private currentVersion?: string;
  /** Epoch ms of the PostgreSQL read this list reflects (0: never loaded). */
  private readAt = 0;
  /** Entries this process wrote, with when: kept over snapshots read before they were written. */
  private readonly localAdds = new Map<string, { entry: RevocationEntry; at: number }>();

  get version(): string | undefined {
    return this.currentVersion;
  }

  /** How old the list is (ms since its PostgreSQL read); Infinity before the first load. */
  ageMs(now = Date.now()): number {
    return this.readAt === 0 ? Infinity : now - this.readAt;
  }

  /** Replaces the list (a full snapshot) or only marks it current (`entries` undefined: unchanged). */
  update(entries: RevocationEntry[] | undefined, readAt: number): void {
    if (entries) {
      this.entries = new Map(entries.map((e) => [e.h, e]));
      // Entries this process added after that read began may be missing from it: keep them (a
      // snapshot read just before a disable once undid the disable here until the next read).
      for (const [h, local] of this.localAdds) {
        if (local.at >= readAt) this.merge(local.entry);
        else this.localAdds.delete(h);
      }
      this.currentVersion = revocationsVersion([...this.entries.values()]);
    }
    // An answer for an older read never makes the list look fresher than it is.
    this.readAt = Math.max(this.readAt, readAt);
  }

  /** Adds entries this process just wrote (before the next read confirms them). */
  add(entries: RevocationEntry[], now = Date.now()): void {
    for (const e of entries) {
      this.merge(e);
      this.localAdds.set(e.h, { entry: e, at: now });
    }
    this.currentVersion = revocationsVersion([...this.entries.values()]);
  }

  private merge(e: RevocationEntry): void {
    const held = this.entries.get(e.h);
    const merged: RevocationEntry = { h: e.h, exp: Math.max(e.exp, held?.exp ?? 0) };
    // No "not before" means every token the entry names: the stronger of the two wins.
    if (e.nb !== undefined && (!held || held.nb !== undefined)) merged.nb = Math.max(e.nb, held?.nb ?? 0);
    this.entries.set(e.h, merged);
  }

  /** The entries, as a snapshot for callers (without the ones that no longer matter). */
  snapshot(now = Date.now()): RevocationEntry[] {
    const nowSeconds = now / 1000;
    return [...this.entries.values()].filter((e) => e.exp > nowSeconds);
  }

  /**
   * Whether a verified token is revoked: its client, its subject (or the one acting for it), its
   * sign-in session, or the token itself. O(1): a few hashes and map lookups.
   */
  isRevoked(
    claims: Pick<AccessTokenClaims, 'org_id' | 'client_id' | 'sub' | 'jti' | 'iat' | 'sid' | 'act'>,
  ): boolean {
    if (this.entries.size === 0) return false;
    // The verifier hands the same claims object for the same token: decided once per list version.
    const memo = this.decided.get(claims);
    if (memo && memo.version === this.currentVersion) return memo.revoked;
    const revoked = this.lookup(claims);
    this.decided.set(claims, { version: this.currentVersion, revoked });
    return revoked;
  }

  private readonly decided = new WeakMap<object, { version: string | undefined; revoked: boolean }>();

  private lookup(
    claims: Pick<AccessTokenClaims, 'org_id' | 'client_id' | 'sub' | 'jti' | 'iat' | 'sid' | 'act'>,
  ): boolean {
    const org = claims.org_id;
    const hit = (kind: RevocationKind, value: string | undefined) => {
      if (!value) return false;
      const entry = this.entries.get(revocationKey(kind, org, value));
      return !!entry && (entry.nb === undefined || claims.iat < entry.nb);
    };
    return (
      hit('token', claims.jti) ||
      hit('client', claims.client_id) ||
      hit('subject', claims.sub) ||
      hit('subject', claims.act?.sub) ||
      hit('client', claims.act?.client_id) ||
      hit('session', claims.sid)
    );
  }
}

/** Reads the list: from PostgreSQL (token-broker) or from the token-broker over the bus (everyone else). */
export type RevocationSource = (heldVersion: string | undefined) => Promise<RevocationSnapshot>;

export interface RevocationSyncOptions {
  /** How often the list is read again (ms). */
  pollMs: number;
  /** A list older than this is not used: verification fails as unavailable instead (ms). */
  maxStalenessMs: number;
}

/**
 * Keeps a RevocationList current: reads it every `pollMs`, again at once when told the list
 * changed (`poke`), and before a verification that finds it older than `maxStalenessMs` (so a
 * token is never accepted on a list older than that: with the defaults, 1 s polls and a 4 s bound,
 * a revocation reaches every verifier within 5 s, or the verifier refuses to decide).
 */
export class RevocationSync {
  readonly list = new RevocationList();
  private inflight?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private lastFailure?: unknown;

  constructor(
    private readonly source: RevocationSource,
    readonly options: RevocationSyncOptions,
    /** Told when reading starts failing (the error) and when it works again (undefined); not on every poll. */
    private readonly onHealthChange?: (failure: unknown) => void,
  ) {}

  /** Starts the periodic reads (the first one now). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.options.pollMs);
    this.timer.unref();
    void this.refresh().catch(() => undefined);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The list changed somewhere: read it again now (coalesced with a read under way). */
  poke(): void {
    void this.refresh().catch(() => undefined);
  }

  /** One read (single-flight: concurrent callers share it). */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      const started = Date.now();
      try {
        const snapshot = await this.source(this.list.version);
        // The list is as old as the source's read, plus the time the answer took to arrive.
        this.list.update(snapshot.entries, started - snapshot.ageMs);
        if (this.lastFailure !== undefined) this.onHealthChange?.(undefined);
        this.lastFailure = undefined;
      } catch (err) {
        if (this.lastFailure === undefined) this.onHealthChange?.(err);
        this.lastFailure = err;
        throw err;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** Whether the token is revoked, on a list no older than the bound (read again first if needed). */
  async isRevoked(claims: Parameters<RevocationList['isRevoked']>[0]): Promise<boolean> {
    if (this.list.ageMs() > this.options.maxStalenessMs) {
      try {
        await this.refresh();
      } catch {
        // falls through to the check below
      }
      if (this.list.ageMs() > this.options.maxStalenessMs) {
        throw new RevocationStateUnavailableError(
          this.lastFailure instanceof Error
            ? `the revocation list could not be read (${this.lastFailure.name})`
            : undefined,
        );
      }
    }
    return this.list.isRevoked(claims);
  }
}

/** Defaults: read every second, never decide on a list more than 4 s old (≤ 5 s end to end). */
export const DEFAULT_REVOCATION_SYNC: RevocationSyncOptions = { pollMs: 1_000, maxStalenessMs: 4_000 };

const healthLogger = new Logger('Revocations');

/** Logs when the revocation list stops being readable (tokens are then refused with 503) and when it is again. */
export function revocationHealthLog(failure: unknown): void {
  if (failure === undefined) healthLogger.log('revocation list readable again');
  else
    healthLogger.warn(
      `revocation list not readable (${failure instanceof Error ? failure.name : 'error'}): tokens are refused with 503 once it is over 4 s old`,
    );
}
