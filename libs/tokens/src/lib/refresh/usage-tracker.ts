import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The refresh-ahead due time of a credential row, as SQL (mirrors `aheadMarginMs`). */
export const AHEAD_DUE_SQL = `c.expires_at - LEAST(GREATEST((c.expires_at - c.updated_at) * 0.2, interval '10 seconds'), interval '10 minutes')`;

/** At most this many authorizations are remembered as flushed (then the memory starts over: a few extra writes). */
const FLUSHED_LIMIT = 200_000;

/**
 * Which authorizations are in use, for the refresh schedule. The hot path only notes an id in a map
 * (no database write); every `flushMs` the noted ids are written in one statement:
 * `authorizations.last_used_at`, and a token set whose refresh was planned as idle (keep-alive, or
 * none) is pulled forward to its refresh-ahead time. Each replica writes an authorization at most
 * once per token set it served (the token's write time is remembered), so the cost is one row
 * update per used authorization per token lifetime and replica, not one per request.
 */
export class UsageTracker {
  private readonly logger = new Logger('UsageTracker');
  private pending = new Map<string, number>();
  private readonly flushed = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly flushMs: number,
  ) {}

  /** Notes that a token of `authorizationId` written at `writtenAtMs` was served. */
  record(authorizationId: string, writtenAtMs: number): void {
    const done = this.flushed.get(authorizationId);
    if (done !== undefined && done >= writtenAtMs) return;
    const noted = this.pending.get(authorizationId);
    if (noted === undefined || noted < writtenAtMs) this.pending.set(authorizationId, writtenAtMs);
  }

  /** Nest lifecycle: flushing starts with the application... */
  onApplicationBootstrap(): void {
    this.start();
  }

  /** ...and what is noted is written before it stops. */
  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  start(): void {
    if (this.timer || this.flushMs <= 0) return;
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is noted (at shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes the noted ids now (one statement); on failure they stay noted for the next flush. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.dataSource.query(
        `WITH used AS (
           UPDATE tokens.authorizations SET last_used_at = now() WHERE id = ANY($1::uuid[]) AND status = 'active' RETURNING id)
         UPDATE tokens.credentials c SET refresh_due_at = ${AHEAD_DUE_SQL}
           FROM used
          WHERE c.authorization_id = used.id AND c.refresh_token IS NOT NULL AND c.expires_at IS NOT NULL
            AND (c.refresh_due_at IS NULL OR c.refresh_due_at > ${AHEAD_DUE_SQL})`,
        [[...batch.keys()]],
      );
      if (this.flushed.size + batch.size > FLUSHED_LIMIT) this.flushed.clear();
      for (const [id, writtenAt] of batch) this.flushed.set(id, writtenAt);
    } catch (err) {
      for (const [id, writtenAt] of batch) this.record(id, writtenAt);
      this.logger.warn(`usage of ${batch.size} authorization(s) not recorded yet: ${(err as Error).message}`);
    }
  }
}
