import type IORedis from 'ioredis';

/** Requests a replica takes at once when more are waiting. */
export const BATCH = 8;

/** How long one pop waits for a request (then the loop checks whether it is closing, and pops again). */
export const POP_WAIT_SECONDS = 1;

/**
 * How a replica pops: BLMPOP (Redis ≥ 7) takes up to a batch in the one blocking round trip;
 * before 7, BLPOP then an LPOP with a count (≥ 6.2) for the rest; before 6.2, one per round trip.
 */
export type PopMode = 'blmpop' | 'blpop+lpop' | 'blpop';

/**
 * Pops a replica's requests off its list, in the best way the server supports (found by trying:
 * an older Redis answers "unknown command" or a syntax error, and the next mode is used).
 */
export class RequestPopper {
  private mode: PopMode = 'blmpop';

  constructor(
    private readonly listKey: string,
    /** Starts a request popped ahead of the rest (the BLPOP+LPOP mode's first one). */
    private readonly startEarly: (raw: string) => void,
    private readonly onError: (message: string) => void,
    private readonly closing: () => boolean,
  ) {}

  /** True when the error means this Redis lacks the current mode (the mode is stepped down: retry). */
  stepDown(err: unknown): boolean {
    const message = (err as Error).message;
    if (this.mode !== 'blpop' && /unknown command|wrong number of arguments|syntax/i.test(message)) {
      this.mode = this.mode === 'blmpop' ? 'blpop+lpop' : 'blpop';
      return true;
    }
    return false;
  }

  /** Up to `room` requests, waiting up to a second for the first. */
  async pop(redis: IORedis, room: number): Promise<string[]> {
    if (this.mode === 'blmpop') {
      const popped = (await redis.call(
        'blmpop',
        POP_WAIT_SECONDS,
        1,
        this.listKey,
        'LEFT',
        'COUNT',
        room,
      )) as [string, string[]] | null;
      return popped ? popped[1] : [];
    }
    const first = await redis.blpop(this.listKey, POP_WAIT_SECONDS);
    if (!first) return [];
    if (this.mode === 'blpop' || room <= 1) return [first[1]];
    // The first one is not held back by the second round trip.
    this.startEarly(first[1]);
    try {
      return ((await redis.lpop(this.listKey, room - 1)) as string[] | null) ?? [];
    } catch (err) {
      if (/wrong number of arguments|syntax/i.test((err as Error).message)) this.mode = 'blpop';
      else if (!this.closing()) this.onError((err as Error).message);
      return [];
    }
  }
}
