import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import type {
  LedgerActor,
  LedgerEntry,
  LedgerHit,
  LedgerPage,
  LedgerPath,
  LedgerQuery,
  TokenRestriction,
} from '@broker/contracts';
import { TokenFingerprinter } from '@broker/crypto';
import { canonicalJson, dedupeFacts, ledgerDedupeKey } from './ledger-fingerprint';
import { ledgerRowsByFingerprint, purgeLedgerRows, searchLedger } from './ledger-queries';
import { LedgerTickets, TicketRefusal, TicketedServe } from './ledger-ticket';

/** HKDF info of the ledger ticket key (from the fingerprint key; see LedgerTickets). */
const LEDGER_TICKET_KEY_INFO = 'broker ledger ticket v1';

export { canonicalJson } from './ledger-fingerprint';

/** One serve of a provider token, as the token path reports it (the token is fingerprinted at once, never kept). */
export interface ServeRecord {
  orgId: string;
  consumer: string;
  actor?: LedgerActor;
  subject: string;
  authorizationId: string;
  providerId: string;
  path: LedgerPath;
  restriction?: TokenRestriction;
  attenuated: boolean;
  expiresAt: Date | null;
  token: string;
}

export interface TokenLedgerOptions {
  /** How often pending records are written (one multi-row statement per flush). */
  flushMs: number;
  /** A flush starts early once this many distinct records are pending. */
  maxBatch: number;
  /** Pending records kept while PostgreSQL cannot be written; past this the oldest are dropped (and counted). */
  maxPending: number;
  /** Rows not served for this long are removed (hourly, once per cluster). */
  retentionDays: number;
}

export const DEFAULT_TOKEN_LEDGER_OPTIONS: TokenLedgerOptions = {
  flushMs: 250,
  maxBatch: 500,
  maxPending: 100_000,
  retentionDays: 90,
};

/** Tokens whose fingerprints are remembered (the hot ones: a token is served many times in its life). */
const FINGERPRINTS_KEPT = 1024;

/**
 * A pending row's key: the org and the serve's facts themselves (equal for serves that merge); their
 * hash, the row's dedupe key, is computed once per row, when it is first pending.
 */
function pendingKey(orgId: string, facts: Parameters<typeof dedupeFacts>[0]): string {
  return `${orgId}\u0000${dedupeFacts(facts)}`;
}

interface Pending {
  orgId: string;
  dedupeKey: string;
  fingerprint: string;
  consumer: string;
  actor: string | null;
  subject: string;
  authorizationId: string;
  providerId: string;
  path: LedgerPath;
  restriction: string | null;
  attenuated: boolean;
  expiresAt: Date | null;
  first: Date;
  last: Date;
  count: number;
}

/**
 * The provenance ledger (`tokens.token_ledger`). `record` is synchronous and cheap (an HMAC and a
 * map update): nothing waits on PostgreSQL on the caller's path. Records are merged in memory (the
 * same token served again to the same consumer adds to a count) and written in batches by a timer;
 * a failed write is retried on the next flush, and everything pending is written at shutdown.
 */
export class TokenLedger {
  private pending = new Map<string, Pending>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private dropped = 0;
  private lastPurge = 0;
  private readonly tickets: LedgerTickets;
  /**
   * Token → fingerprint for the most recently served tokens (a SHA-256 and an HMAC saved per
   * repeated serve). The process holds these tokens anyway (the hot-token memory).
   */
  private readonly servedFingerprints = new LRUCache<string, string>({ max: FINGERPRINTS_KEPT });

  constructor(
    private readonly dataSource: DataSource,
    private readonly fingerprints: TokenFingerprinter,
    private readonly options: TokenLedgerOptions = DEFAULT_TOKEN_LEDGER_OPTIONS,
    private readonly warn: (message: string) => void = () => undefined,
    now: () => number = Date.now,
  ) {
    this.tickets = new LedgerTickets(fingerprints.subkey(LEDGER_TICKET_KEY_INFO), now);
  }

  /**
   * Records a serve (never throws, never waits). With `ticket`, also answers the serve's ledger
   * ticket (see LedgerTickets): what the gateway hands back to report its cache hits of this serve.
   */
  record(r: ServeRecord, options: { ticket?: boolean } = {}): string | undefined {
    const serve: TicketedServe = {
      orgId: r.orgId,
      fingerprint: this.fingerprint(r.token),
      consumer: r.consumer,
      actor: r.actor ? JSON.stringify(r.actor) : null,
      subject: r.subject,
      authorizationId: r.authorizationId,
      providerId: r.providerId,
      path: r.path,
      restriction: r.restriction && Object.keys(r.restriction).length ? canonicalJson(r.restriction) : null,
      attenuated: r.attenuated,
      expiresAt: r.expiresAt ? r.expiresAt.getTime() : null,
    };
    const now = new Date();
    this.add(serve, 1, now, now);
    return options.ticket ? this.tickets.issue(serve) : undefined;
  }

  /**
   * Records hits the gateway answered from its cache, each vouched for by the ticket of the serve
   * it repeats: the recorded facts are the ticket's, never the reporter's. A hit whose ticket is not
   * the broker's own, was altered, has expired, or whose times fall outside the ticket's life is
   * refused and writes nothing. Answers how many hits were recorded and the refusals by reason.
   */
  recordHits(hits: readonly LedgerHit[]): {
    recorded: number;
    refused: Partial<Record<TicketRefusal, number>>;
  } {
    let recorded = 0;
    const refused: Partial<Record<TicketRefusal, number>> = {};
    for (const hit of hits) {
      const checked = this.tickets.check(hit.ticket, hit);
      if (!checked.ok) {
        refused[checked.refusal] = (refused[checked.refusal] ?? 0) + 1;
        continue;
      }
      this.add(checked.claims, hit.count, new Date(hit.firstAt), new Date(hit.lastAt));
      recorded += hit.count;
    }
    return { recorded, refused };
  }

  private fingerprint(token: string): string {
    let fingerprint = this.servedFingerprints.get(token);
    if (fingerprint === undefined) {
      fingerprint = this.fingerprints.ofToken(token);
      this.servedFingerprints.set(token, fingerprint);
    }
    return fingerprint;
  }

  /**
   * Adds `count` serves of one token to one consumer, merged with what is pending for the same row.
   * Merged by the serve's facts themselves; their hash (the row's dedupe key) is computed once per
   * pending row, not per serve.
   */
  private add(serve: TicketedServe, count: number, first: Date, last: Date): void {
    const key = pendingKey(serve.orgId, serve);
    const known = this.pending.get(key);
    if (known) {
      if (first < known.first) known.first = first;
      if (last > known.last) known.last = last;
      known.count += count;
    } else {
      if (this.pending.size >= this.options.maxPending) this.dropOldest();
      this.pending.set(key, {
        orgId: serve.orgId,
        dedupeKey: ledgerDedupeKey(serve),
        fingerprint: serve.fingerprint,
        consumer: serve.consumer,
        actor: serve.actor,
        subject: serve.subject,
        authorizationId: serve.authorizationId,
        providerId: serve.providerId,
        path: serve.path,
        restriction: serve.restriction,
        attenuated: serve.attenuated,
        expiresAt: serve.expiresAt === null ? null : new Date(serve.expiresAt),
        first,
        last,
        count,
      });
    }
    if (this.pending.size >= this.options.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
  }

  /** Writes what is pending (one statement per batch); concurrent calls share the running flush. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
      if (this.pending.size) this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs);
    });
    return this.flushing;
  }

  /** How many records are waiting to be written (for tests and shutdown). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Flushes and stops the timer (shutdown). */
  async close(): Promise<void> {
    await this.flush();
    if (this.pending.size) await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(): Promise<void> {
    if (!this.pending.size) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      for (let i = 0; i < batch.length; i += this.options.maxBatch)
        await this.insert(batch.slice(i, i + this.options.maxBatch));
      if (this.dropped) {
        this.warn(
          `token ledger: ${this.dropped} record(s) were dropped while the database could not be written`,
        );
        this.dropped = 0;
      }
    } catch (err) {
      // Kept for the next flush (merged with what arrived meanwhile), within maxPending.
      for (const p of batch) {
        const key = pendingKey(p.orgId, p);
        const newer = this.pending.get(key);
        if (newer) {
          newer.first = p.first < newer.first ? p.first : newer.first;
          newer.count += p.count;
        } else {
          if (this.pending.size >= this.options.maxPending) this.dropOldest();
          this.pending.set(key, p);
        }
      }
      this.warn(
        `token ledger: write failed, ${this.pending.size} record(s) kept for the next attempt (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }

  private async insert(rows: Pending[]): Promise<void> {
    const col = <T>(f: (p: Pending) => T) => rows.map(f);
    await this.dataSource.query(
      `INSERT INTO tokens.token_ledger (org_id, dedupe_key, token_fingerprint, consumer, actor, subject, authorization_id, provider_id, path, restriction, attenuated,
                                        token_expires_at, first_served_at, last_served_at, serve_count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::uuid[], $8::uuid[], $9::text[], $10::jsonb[], $11::boolean[],
                            $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::int[])
       ON CONFLICT (org_id, dedupe_key) DO UPDATE SET
         last_served_at = GREATEST(tokens.token_ledger.last_served_at, EXCLUDED.last_served_at),
         first_served_at = LEAST(tokens.token_ledger.first_served_at, EXCLUDED.first_served_at),
         serve_count = tokens.token_ledger.serve_count + EXCLUDED.serve_count`,
      [
        col((p) => p.orgId),
        col((p) => p.dedupeKey),
        col((p) => p.fingerprint),
        col((p) => p.consumer),
        col((p) => p.actor),
        col((p) => p.subject),
        col((p) => p.authorizationId),
        col((p) => p.providerId),
        col((p) => p.path),
        col((p) => p.restriction),
        col((p) => p.attenuated),
        col((p) => p.expiresAt),
        col((p) => p.first),
        col((p) => p.last),
        col((p) => p.count),
      ],
    );
  }

  private dropOldest(): void {
    const oldest = this.pending.keys().next();
    if (!oldest.done) {
      this.pending.delete(oldest.value);
      this.dropped++;
    }
  }

  /** "Who received tokens of this user / from this consumer … since …", newest first, paged. */
  search(orgId: string, q: LedgerQuery): Promise<LedgerPage> {
    return searchLedger(this.dataSource, orgId, q);
  }

  /** "Which consumer got this token": every row with this fingerprint. */
  byFingerprint(orgId: string, fingerprint: string): Promise<LedgerEntry[]> {
    return ledgerRowsByFingerprint(this.dataSource, orgId, fingerprint);
  }

  /** The fingerprint a token (or its SHA-256) has in the ledger. */
  fingerprintOf(input: { token: string } | { sha256: Buffer }): string {
    return 'token' in input
      ? this.fingerprints.ofToken(input.token)
      : this.fingerprints.ofSha256(input.sha256);
  }

  /**
   * Removes rows not served for `retentionDays`, at most once an hour and by one replica at a time
   * (a transaction-scoped advisory lock). Returns how many went, or null when it was not this one's turn.
   */
  async purgeExpired(now = Date.now()): Promise<number | null> {
    if (now - this.lastPurge < 3_600_000) return null;
    this.lastPurge = now;
    return purgeLedgerRows(this.dataSource, this.options.retentionDays);
  }
}
