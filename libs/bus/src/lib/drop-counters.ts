import type { LoggerService } from '@nestjs/common';

/** Why a request was dropped without an answer (counted; logged at most every 10 s per reason). */
export type DropReason =
  | 'malformed'
  | 'expired'
  | 'bad-deadline'
  | 'unknown-key'
  | 'unopenable'
  | 'replayed'
  | 'bad-reply-channel'
  | 'late';

export interface BusServerStats {
  handled: number;
  /** Answered BAD_REQUEST because the payload did not match its schema. */
  invalid: number;
  dropped: Record<DropReason, number>;
}

/** A replica's counters, and the rate-limited warning of each drop. */
export class BusServerCounters {
  readonly counts: BusServerStats = {
    handled: 0,
    invalid: 0,
    dropped: {
      malformed: 0,
      expired: 0,
      'bad-deadline': 0,
      'unknown-key': 0,
      unopenable: 0,
      replayed: 0,
      'bad-reply-channel': 0,
      late: 0,
    },
  };
  private readonly lastWarned = new Map<DropReason, number>();

  constructor(
    private readonly listKey: string,
    private readonly logger: () => Pick<LoggerService, 'warn'>,
  ) {}

  snapshot(): BusServerStats {
    return { ...this.counts, dropped: { ...this.counts.dropped } };
  }

  drop(reason: DropReason, detail: string): void {
    this.counts.dropped[reason]++;
    const now = Date.now();
    // An attacker can send any number of these: a warning per reason at most every 10 s.
    if ((this.lastWarned.get(reason) ?? 0) > now - 10_000) return;
    this.lastWarned.set(reason, now);
    this.logger().warn(
      `dropped bus request(s) on ${this.listKey}: ${reason} (${detail}); ${this.counts.dropped[reason]} so far`,
    );
  }
}
