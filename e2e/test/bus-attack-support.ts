import IORedis from 'ioredis';

/** A request seen on its way into a service's request list. */
export interface SeenRequest {
  list: string;
  raw: string;
  envelope: { i: string; p: string; d: number; r?: string; k: string; e: string; s: string };
}

/**
 * An attacker's MONITOR session on the bus: every RPUSH onto a request list under `prefix`, as the
 * raw entry. Needs nothing but a Redis connection (default user: anyone who reaches Redis).
 */
export class RequestMonitor {
  readonly seen: SeenRequest[] = [];
  private readonly listeners: ((r: SeenRequest) => void)[] = [];
  private monitor?: { disconnect(): void };
  private stopped = false;

  constructor(
    private readonly redisUrl: string,
    private readonly prefix: string,
  ) {}

  async start(): Promise<void> {
    const redis = new IORedis(this.redisUrl);
    const monitor = await redis.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() !== 'rpush' || !args[1]?.startsWith(`${this.prefix}:bus:req:`)) return;
      for (const raw of args.slice(2)) {
        try {
          const seen = { list: args[1], raw, envelope: JSON.parse(raw) as SeenRequest['envelope'] };
          this.seen.push(seen);
          for (const listener of this.listeners) listener(seen);
        } catch {
          // not a request
        }
      }
    });
    // Lines still arriving while the connection closes are parsed as ordinary replies by ioredis
    // ("Command queue state error"): expected after stop(); before it, a real failure.
    monitor.on('error', (err: Error) => {
      if (!this.stopped) throw err;
    });
    this.monitor = monitor;
    redis.disconnect();
  }

  /** Calls `listener` for every request seen from now on. */
  onRequest(listener: (r: SeenRequest) => void): void {
    this.listeners.push(listener);
  }

  stop(): void {
    this.stopped = true;
    this.monitor?.disconnect();
  }
}

/** Counts what reaches the attacker's own channels (where redirected replies would land). */
export class Eavesdropper {
  readonly heard: { channel: string; message: string }[] = [];
  private readonly redis: IORedis;

  constructor(redisUrl: string) {
    this.redis = new IORedis(redisUrl);
    this.redis.on('pmessage', (_p: string, channel: string, message: string) =>
      this.heard.push({ channel, message }),
    );
  }

  async listen(pattern: string): Promise<void> {
    await this.redis.psubscribe(pattern);
  }

  close(): void {
    this.redis.disconnect();
  }
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
