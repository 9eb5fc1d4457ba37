import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RevocationChannel } from './revocation-channel';
import { RevocationSync } from './revocation-list';
import type { RevocationEntry } from '@broker/contracts';

const PURGE_EVERY_MS = 3_600_000;

/**
 * The writer of revocations in this process (the identity domain's RevocationsService, in the
 * token-broker): told of its committed writes, it adds them to the list at once and announces them.
 */
export interface RevocationWriter {
  onRevoked(listener: (entries: RevocationEntry[]) => void): void;
  purgeExpired(): Promise<number>;
}

/**
 * Runs a process's revocation list: periodic reads, reads on the change ping, and, where the
 * process writes revocations (the token-broker), its own writes added at once and announced.
 */
export class RevocationLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Revocations');
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly sync: RevocationSync,
    private readonly channel: RevocationChannel,
    private readonly writer?: RevocationWriter,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.writer) {
      this.writer.onRevoked((entries) => {
        this.sync.list.add(entries);
        this.channel.announce();
      });
      this.purgeTimer = setInterval(
        () => void this.writer?.purgeExpired().catch(() => undefined),
        PURGE_EVERY_MS,
      );
      this.purgeTimer.unref();
    }
    this.sync.start();
    try {
      await this.channel.listen(() => this.sync.poke());
    } catch (err) {
      // Polling alone keeps the bound; the ping only makes revocations arrive sooner.
      this.logger.warn(
        `not listening for revocation pings (${err instanceof Error ? err.message : String(err)}): polling only`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.sync.stop();
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.channel.close();
  }
}
