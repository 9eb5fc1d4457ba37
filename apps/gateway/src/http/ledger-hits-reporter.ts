import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { BusClientProxy } from '@broker/bus';
import { LEDGER_HITS_MAX_BATCH, type LedgerHit } from '@broker/contracts';

/** How often the gateway reports its cache hits to the broker's ledger. */
export const LEDGER_HITS_FLUSH_MS = 250;

/**
 * Reports every answer the gateway's token cache gave to the provenance ledger: hits are counted
 * per ledger ticket (the broker's MAC over the serve they repeat) and sent in batches as the
 * fire-and-forget `tokens.ledger.hits` (sealed and replay-protected like every bus request). Ids
 * and counts only, never a token. A batch that cannot be sent is logged with its count and
 * dropped: the cache must not grow without bound behind a broker that is away.
 */
@Injectable()
export class LedgerHitsReporter implements OnApplicationShutdown {
  private readonly logger = new Logger('LedgerHits');
  private pending = new Map<string, LedgerHit>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly bus: BusClientProxy) {}

  /** Counts one answer given from the cache under `ticket` (never waits). */
  hit(ticket: string, at = Date.now()): void {
    const known = this.pending.get(ticket);
    if (known) {
      known.count++;
      known.lastAt = at;
    } else this.pending.set(ticket, { ticket, count: 1, firstAt: at, lastAt: at });
    if (this.pending.size >= LEDGER_HITS_MAX_BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), LEDGER_HITS_FLUSH_MS);
  }

  /** Sends what is pending, in batches of at most LEDGER_HITS_MAX_BATCH. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending.size) return;
    const hits = [...this.pending.values()];
    this.pending = new Map();
    for (let i = 0; i < hits.length; i += LEDGER_HITS_MAX_BATCH) {
      const batch = hits.slice(i, i + LEDGER_HITS_MAX_BATCH);
      await this.bus
        .emitTo('token-broker', 'tokens.ledger.hits', { hits: batch })
        .catch((err: unknown) =>
          this.logger.warn(
            `${batch.reduce((n, h) => n + h.count, 0)} cache hit(s) not reported to the ledger: ${err instanceof Error ? err.message : String(err)}`,
          ),
        );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }
}
