import IORedis from 'ioredis';
import type { TickBatch } from '@broker/bus-protocol';

type SetCommand = ['set', string, '1', 'PXAT', number, 'NX'];

interface Riding {
  command: SetCommand;
  resolve: (reply: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * The replay markers (`SET NX`) of a popped batch sent in the same write as the next pop, on the
 * blocking connection: one write and one wake-up per request fewer than a marker on the publisher
 * connection next to a pop on the blocking one (at light load each request is its own batch, and
 * the replica's CPU per request was mostly such per-message costs).
 *
 * Redis answers in order, so the markers' replies come before the pop blocks; a handler still runs
 * only once its marker answered OK, and a marker is still queued only once its request opened. A
 * marker that cannot ride (its request opened after the pop left: a new HPKE session, or the
 * concurrency limit holds the pop back; or a connection that is not one server's: a Cluster routes
 * by key) goes through the publisher's batch as before.
 */
export class MarkersWithPop {
  private riding?: Riding[];

  constructor(private readonly fallback: TickBatch) {}

  /** From now until the next `sendWith` or `flush`, markers wait for the pop. */
  open(): void {
    this.riding ??= [];
  }

  /** Sets the marker `key` until `deadline` (epoch ms) if absent: 'OK' when this call set it. */
  mark(key: string, deadline: number): Promise<unknown> {
    const command: SetCommand = ['set', key, '1', 'PXAT', deadline, 'NX'];
    const riding = this.riding;
    if (!riding) return this.fallback.send(...command);
    return new Promise((resolve, reject) => riding.push({ command, resolve, reject }));
  }

  /** Sends the waiting markers, then `pop` (which must write its command at once), in one write on `redis`. */
  sendWith<T>(redis: IORedis, pop: () => Promise<T>): Promise<T> {
    const riding = this.take();
    const stream = redis instanceof IORedis && redis.status === 'ready' ? redis.stream : undefined;
    if (!stream) {
      this.viaFallback(riding);
      return pop();
    }
    if (riding.length === 0) return pop();
    stream.cork();
    try {
      for (const { command, resolve, reject } of riding) redis.call(...command).then(resolve, reject);
      return pop();
    } finally {
      stream.uncork();
    }
  }

  /** Sends the waiting markers without a pop (the loop waits for a slot, or stops). */
  flush(): void {
    this.viaFallback(this.take());
  }

  private take(): Riding[] {
    const riding = this.riding ?? [];
    this.riding = undefined;
    return riding;
  }

  private viaFallback(riding: Riding[]): void {
    for (const { command, resolve, reject } of riding) this.fallback.send(...command).then(resolve, reject);
  }
}
