import { randomUUID } from 'node:crypto';
import type { OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import IORedis from 'ioredis';
import { BUS_PATTERN_OWNERS, BusPattern, BusReply, BusRequest } from '@broker/contracts';
import { ReplyKeyAgreement, deriveRequestKey, open, seal } from './bus-crypto';
import { BusRemoteError, BusTimeoutError, BusUnavailableError } from './bus-errors';
import { BusClientOptions, DEFAULT_BUS_PREFIX, DEFAULT_BUS_TIMEOUT_MS } from './bus-options';
import { createRedisConnection } from './redis-connection';
import { ReplyBody, ReplyMessage, RequestBody, RequestEnvelope, busQueueName, replyAad, replyChannel, requestAad, requestListKey } from './wire';

/** A request list nobody consumes (a service that is never started) disappears after this long. */
const REQUEST_LIST_TTL_SECONDS = 3_600;

export interface BusCallOptions {
  /** How long to wait for the reply (ms). */
  timeoutMs?: number;
  /** The caller's bearer token, sealed into the request for the receiving service to verify. */
  auth?: string;
  /** Target service; by default the owner of the pattern in the contracts. */
  service?: string;
}

interface Pending {
  pattern: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Counters a client keeps about its own traffic (exposed for tests, metrics and debugging). */
export interface BusClientStats {
  sent: number;
  replied: number;
  timedOut: number;
  /** Replies on this client's channel for no pending request (late replies after a timeout). */
  unmatched: number;
}

/**
 * Nest ClientProxy for the bus (see BusServer). A request is pushed on the target service's request
 * list (one replica pops it); the reply comes back on this instance's own pub/sub channel, sealed so that
 * only this instance can read it. Every call has a deadline and ends with a typed error.
 */
export class BusClientProxy extends ClientProxy implements OnApplicationShutdown {
  readonly clientId = randomUUID();
  private readonly requestKey: Buffer;
  private readonly keys = new ReplyKeyAgreement();
  private readonly prefix: string;
  private readonly channel: string;
  private readonly pending = new Map<string, Pending>();
  private readonly expiryRenewed = new Map<string, number>();
  private readonly counters: BusClientStats = { sent: 0, replied: 0, timedOut: 0, unmatched: 0 };
  private sequence = 0;
  private connection?: IORedis;
  private subscriber?: IORedis;
  private connecting?: Promise<void>;
  private closed = false;

  constructor(private readonly options: BusClientOptions) {
    super();
    this.requestKey = deriveRequestKey(options.busKey);
    this.prefix = options.prefix ?? DEFAULT_BUS_PREFIX;
    this.channel = replyChannel(this.prefix, this.clientId);
  }

  /** Opens the Redis connections and subscribes to this instance's reply channel (idempotent). */
  connect(): Promise<void> {
    this.connecting ??= this.open();
    return this.connecting;
  }

  private async open(): Promise<void> {
    const name = this.options.name ?? 'bus-client';
    // Auto-pipelining (opt-in): requests issued in the same tick leave in one write. It pays for a
    // caller that fans in many concurrent requests (the gateway); for others it only adds latency.
    this.connection = createRedisConnection(this.options.redisUrl, `${name}:send`, { enableAutoPipelining: this.options.autoPipelining === true });
    this.subscriber = createRedisConnection(this.options.redisUrl, `${name}:replies`);
    this.subscriber.on('message', (_channel: string, message: string) => this.onReply(message));
    await this.subscriber.subscribe(this.channel);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new BusUnavailableError(call.pattern, 'client closed'));
      this.pending.delete(id);
    }
    await this.subscriber?.quit().catch(() => undefined);
    await this.connection?.quit().catch(() => undefined);
  }

  /** Nest calls this when the app closes: pending calls fail with UNAVAILABLE, connections close. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  stats(): BusClientStats {
    return { ...this.counters };
  }

  /** Typed request/reply: resolves with the reply or rejects with a BusError subclass. */
  request<P extends BusPattern>(pattern: P, data: BusRequest<P>, options: BusCallOptions = {}): Promise<BusReply<P>> {
    const service = options.service ?? BUS_PATTERN_OWNERS[pattern];
    return this.call(service, pattern, data, options) as Promise<BusReply<P>>;
  }

  /** Request/reply by pattern name, for patterns outside the contracts (tests, tools). */
  async call(service: string, pattern: string, data: unknown, options: BusCallOptions = {}): Promise<unknown> {
    if (this.closed) throw new BusUnavailableError(pattern, 'client closed');
    await this.connect();
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_BUS_TIMEOUT_MS;
    const id = `${this.clientId}.${(this.sequence++).toString(36)}`;
    const envelope = this.envelope(service, id, pattern, data, options.auth, Date.now() + timeoutMs, true);
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) {
          this.counters.timedOut++;
          reject(new BusTimeoutError(pattern, timeoutMs));
        }
      }, timeoutMs);
      this.pending.set(id, { pattern, resolve, reject, timer });
      this.counters.sent++;
      this.push(service, envelope).catch((err: Error) => {
          if (this.pending.delete(id)) {
            clearTimeout(timer);
            reject(new BusUnavailableError(pattern, err.message));
          }
        });
    });
  }

  /** Fire-and-forget event to one replica of the target service (no reply). */
  async emitTo(service: string, pattern: string, data: unknown, options: BusCallOptions = {}): Promise<void> {
    await this.connect();
    const timeoutMs = options.timeoutMs ?? 60_000;
    const id = `${this.clientId}.${(this.sequence++).toString(36)}`;
    const envelope = this.envelope(service, id, pattern, data, options.auth, Date.now() + timeoutMs, false);
    await this.push(service, envelope);
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    const service = BUS_PATTERN_OWNERS[pattern as BusPattern];
    if (!service) {
      callback({ err: new BusRemoteError(pattern, { code: 'NO_HANDLER', message: `no owner for '${pattern}'` }), isDisposed: true });
      return () => undefined;
    }
    this.call(service, pattern, packet.data).then(
      (response) => callback({ response, isDisposed: true }),
      (err: unknown) => callback({ err, isDisposed: true }),
    );
    return () => undefined;
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const pattern = this.normalizePattern(packet.pattern);
    const service = BUS_PATTERN_OWNERS[pattern as BusPattern];
    if (!service) throw new BusUnavailableError(pattern, `no owner for '${pattern}'`);
    await this.emitTo(service, pattern, packet.data);
    return undefined as T;
  }

  private envelope(
    service: string,
    id: string,
    pattern: string,
    data: unknown,
    auth: string | undefined,
    deadline: number,
    expectsReply: boolean,
  ): RequestEnvelope {
    const body: RequestBody = auth === undefined ? { data } : { data, auth };
    const head = { p: pattern, d: deadline };
    const sealed = seal(this.requestKey, Buffer.from(JSON.stringify(body), 'utf8'), requestAad(busQueueName(service), id, head));
    return expectsReply
      ? { v: 1, i: id, ...head, r: this.channel, k: this.keys.publicKey, s: sealed }
      : { v: 1, i: id, ...head, s: sealed };
  }

  /** One round trip: the request and the list's expiry (so an unconsumed list does not stay forever). */
  private async push(service: string, envelope: RequestEnvelope): Promise<void> {
    if (!this.connection) throw new BusUnavailableError(service, 'client not connected');
    const key = requestListKey(this.prefix, service);
    const length = await this.connection.rpush(key, JSON.stringify(envelope));
    // The list gets an expiry when this push created it, and at least once a minute per client (not
    // on every request: one command less each under load).
    const now = Date.now();
    if (length === 1 || (this.expiryRenewed.get(key) ?? 0) < now - 60_000) {
      this.expiryRenewed.set(key, now);
      this.connection.expire(key, REQUEST_LIST_TTL_SECONDS).catch(() => undefined);
    }
  }

  private onReply(raw: string): void {
    let message: ReplyMessage;
    try {
      message = JSON.parse(raw) as ReplyMessage;
    } catch {
      this.counters.unmatched++;
      return;
    }
    const call = this.pending.get(message.i);
    if (!call) {
      this.counters.unmatched++;
      return;
    }
    let body: ReplyBody;
    try {
      body = JSON.parse(open(this.keys.keyFor(message.k, 'client'), message.s, replyAad(message.i)).toString('utf8'));
    } catch {
      // Not sealed for us: ignore it and let the genuine reply (or the timeout) settle the call.
      this.counters.unmatched++;
      return;
    }
    this.pending.delete(message.i);
    clearTimeout(call.timer);
    this.counters.replied++;
    if (body.ok) call.resolve(body.data);
    else call.reject(new BusRemoteError(call.pattern, body.error));
  }
}
