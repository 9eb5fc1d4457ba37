import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { TokenLedger } from './token-ledger';

/**
 * Runs the ledger's housekeeping in the service that serves tokens: the retention purge (asked
 * every ten minutes; at most hourly and by one replica, see `purgeExpired`) and the last flush at
 * shutdown, so nothing recorded is lost when the process stops.
 */
@Injectable()
export class TokenLedgerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TokenLedger');
  private timer?: NodeJS.Timeout;

  constructor(private readonly ledger: TokenLedger) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), 600_000);
    this.timer.unref();
    void this.purge();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ledger
      .close()
      .catch((err: unknown) =>
        this.logger.warn(`last ledger flush failed: ${err instanceof Error ? err.message : String(err)}`),
      );
  }

  private async purge(): Promise<void> {
    try {
      const removed = await this.ledger.purgeExpired();
      if (removed) this.logger.log(`removed ${removed} ledger row(s) past their retention`);
    } catch (err) {
      this.logger.warn(`ledger retention purge failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
