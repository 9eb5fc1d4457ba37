import { randomUUID } from 'node:crypto';
import IORedis, { RedisOptions } from 'ioredis';
import { BUS_ERROR_CODES, BusErrorCode } from '@broker/contracts';
import { BusRemoteError, BusTimeoutError, BusUnavailableError } from './bus-errors';
import type { ServicePublicKeys } from './bus-keys';
import { createRedisConnection } from './redis-connection';
import { RequestSealer, openReply } from './sealing';
import { TickBatch } from './tick-batch';
import { RequestBody, RequestEnvelope, replyChannel, requestListKey } from './wire';
import { parseReplyMessage } from './wire-checks';

export const DEFAULT_BUS_PREFIX = 'broker';
export const DEFAULT_BUS_TIMEOUT_MS = 5_000;

/** A request list nobody consumes (a service that is never started) disappears after this long. */
const REQUEST_LIST_TTL_SECONDS = 3_600;

export interface BusRequesterOptions {
  redisUrl: string;
  /** Redis key prefix of every bus list and channel (BUS_PREFIX). */
  prefix?: string;
  /** The public key of each service this client calls (BUS_SERVICE_PUBLIC_KEYS). */
  servicePublicKeys: ServicePublicKeys;
  /** Timeout of a request when the call does not give one. */
  defaultTimeoutMs?: number;
  /**
   * Names this client's Redis connections and its reply channel
   * (`<prefix>:bus:reply:<name>:<instance>`), which a Redis ACL can then scope to this client.
   */
  name?: string;
  /**
   * Send the requests issued in one tick in one write (ioredis auto-pipelining). Worth it for a
   * caller with many requests in flight (the gateway); costs latency at ordinary rates.
   */
  autoPipelining?: boolean;
  /** More ioredis options for both connections (e.g. `enableReadyCheck: false` for a user without INFO). */
  redisOptions?: RedisOptions;
}

export interface BusCallOptions {
  /** How long to wait for the reply (ms). */
  timeoutMs?: number;
  /** The caller's bearer token, sealed into the request for the receiving service to verify. */
  auth?: string;
  /** W3C traceparent of the calling span, sealed into the request (never in clear on Redis). */
  traceparent?: string;
}

/** Counters a client keeps about its own traffic (for tests, metrics and debugging). */
export interface BusClientStats {
  sent: number;
  replied: number;
  timedOut: number;
  /** Replies for no pending request (late replies after a timeout, or noise). */
  unmatched: number;
  /** Replies naming a pending request that did not open with its key: forged or altered, ignored. */
  rejected: number;
}

interface Pending {
  pattern: string;
  replyKey: Buffer;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The calling side of the bus, without any framework: a request is sealed to the target service's
 * public key and pushed on its request list (one replica pops it); the reply comes back on this
 * instance's own channel, sealed under a key only this call and the service know. A reply that
 * does not open with it is ignored, so nobody else on Redis can answer for the service.
 */
export class BusRequester {
  readonly clientId = randomUUID();
  readonly name: string;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly pending = new Map<string, Pending>();
  private readonly expiryRenewed = new Map<string, number>();
  private readonly counters: BusClientStats = { sent: 0, replied: 0, timedOut: 0, unmatched: 0, rejected: 0 };
  /** This instance's own HPKE sessions with the services (never shared with another client). */
  private readonly sealer = new RequestSealer();
  private sequence = 0;
  private connection?: IORedis;
  /** The requests of one turn in one write (without auto-pipelining; with it, ioredis does this). */
  private readonly sends = new TickBatch(() => this.connection);
  private subscriber?: IORedis;
  private connecting?: Promise<void>;
  /** Set once connect() has succeeded: calls then skip awaiting it. */
  private connected = false;
  private closed = false;

  constructor(private readonly options: BusRequesterOptions) {
    this.prefix = options.prefix ?? DEFAULT_BUS_PREFIX;
    this.name = options.name ?? 'bus-client';
    this.channel = replyChannel(this.prefix, this.name, this.clientId);
  }

  /** The channel this instance receives its replies on. */
  get replyChannel(): string {
    return this.channel;
  }

  /** Opens the Redis connections and subscribes to this instance's reply channel (idempotent). */
  connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.open();
      this.connecting.then(
        () => (this.connected = true),
        () => undefined,
      );
    }
    return this.connecting;
  }

  private async open(): Promise<void> {
    if (this.closed) throw new BusUnavailableError('connect', 'client closed');
    const extra = this.options.redisOptions ?? {};
    this.connection = createRedisConnection(this.options.redisUrl, `${this.name}:send`, {
      ...extra,
      enableAutoPipelining: this.options.autoPipelining === true,
    });
    this.subscriber = createRedisConnection(this.options.redisUrl, `${this.name}:replies`, extra);
    // Connection errors surface as failed calls (and through connect()); without a listener ioredis would print each retry.
    this.connection.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, message: string) => this.onReply(message));
    await this.subscriber.subscribe(this.channel);
  }

  /** Ends pending calls with UNAVAILABLE and closes the connections (never waits on an unreachable Redis). */
  async close(): Promise<void> {
    this.closed = true;
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new BusUnavailableError(call.pattern, 'client closed'));
      this.pending.delete(id);
    }
    await Promise.all([closeConnection(this.subscriber), closeConnection(this.connection)]);
  }

  stats(): BusClientStats {
    return { ...this.counters };
  }

  /** The Redis connection requests are sent on (undefined before connect). */
  get redis(): IORedis | undefined {
    return this.connection;
  }

  /** Request/reply: resolves with the reply or rejects with a BusError subclass. */
  async call(
    service: string,
    pattern: string,
    data: unknown,
    options: BusCallOptions = {},
  ): Promise<unknown> {
    if (this.closed) throw new BusUnavailableError(pattern, 'client closed');
    const target = this.options.servicePublicKeys[service];
    if (!target)
      throw new BusUnavailableError(
        pattern,
        `no public key configured for service '${service}' (BUS_SERVICE_PUBLIC_KEYS)`,
      );
    if (!this.connected) await this.connect();
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_BUS_TIMEOUT_MS;
    const id = `${this.clientId}.${(this.sequence++).toString(36)}`;
    const listKey = requestListKey(this.prefix, service);
    const body: RequestBody = options.auth === undefined ? { data } : { data, auth: options.auth };
    if (options.traceparent !== undefined) body.tp = options.traceparent;
    const { envelope, replyKey } = await this.sealer.seal(
      listKey,
      target,
      { id, pattern, deadline: Date.now() + timeoutMs, replyChannel: this.channel },
      body,
    );
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) {
          this.counters.timedOut++;
          reject(new BusTimeoutError(pattern, timeoutMs));
        }
      }, timeoutMs);
      this.pending.set(id, { pattern, replyKey, resolve, reject, timer });
      this.counters.sent++;
      this.push(listKey, envelope).catch((err: Error) => {
        if (this.pending.delete(id)) {
          clearTimeout(timer);
          reject(new BusUnavailableError(pattern, err.message));
        }
      });
    });
  }

  /** Fire-and-forget request to one replica of the target service (no reply). */
  async emitTo(service: string, pattern: string, data: unknown, options: BusCallOptions = {}): Promise<void> {
    if (this.closed) throw new BusUnavailableError(pattern, 'client closed');
    const target = this.options.servicePublicKeys[service];
    if (!target) throw new BusUnavailableError(pattern, `no public key configured for service '${service}'`);
    await this.connect();
    const id = `${this.clientId}.${(this.sequence++).toString(36)}`;
    const listKey = requestListKey(this.prefix, service);
    const body: RequestBody = options.auth === undefined ? { data } : { data, auth: options.auth };
    if (options.traceparent !== undefined) body.tp = options.traceparent;
    const { envelope } = await this.sealer.seal(
      listKey,
      target,
      { id, pattern, deadline: Date.now() + (options.timeoutMs ?? 60_000) },
      body,
    );
    await this.push(listKey, envelope);
  }

  /** One round trip: the request, and the list's expiry now and then (so an unconsumed list does not stay forever). */
  private async push(listKey: string, envelope: RequestEnvelope): Promise<void> {
    if (!this.connection) throw new Error('client not connected');
    const raw = JSON.stringify(envelope);
    const length = Number(
      this.options.autoPipelining
        ? await this.connection.rpush(listKey, raw)
        : await this.sends.send('rpush', listKey, raw),
    );
    const now = Date.now();
    if (length === 1 || (this.expiryRenewed.get(listKey) ?? 0) < now - 60_000) {
      this.expiryRenewed.set(listKey, now);
      this.connection.expire(listKey, REQUEST_LIST_TTL_SECONDS).catch(() => undefined);
    }
  }

  private onReply(raw: string): void {
    let message: { i: string; s: string } | undefined;
    try {
      message = parseReplyMessage(JSON.parse(raw));
    } catch {
      message = undefined;
    }
    if (!message) {
      this.counters.unmatched++;
      return;
    }
    const call = this.pending.get(message.i);
    if (!call) {
      this.counters.unmatched++;
      return;
    }
    let body;
    try {
      body = openReply(call.replyKey, message.i, message.s);
    } catch {
      // Not sealed under this request's key: not the service's answer. Ignore it; the genuine
      // reply (or the timeout) settles the call.
      this.counters.rejected++;
      return;
    }
    this.pending.delete(message.i);
    clearTimeout(call.timer);
    this.counters.replied++;
    if (body.ok) call.resolve(body.data);
    else call.reject(new BusRemoteError(call.pattern, { ...body.error, code: knownCode(body.error.code) }));
  }
}

function knownCode(code: string): BusErrorCode {
  return (BUS_ERROR_CODES as readonly string[]).includes(code) ? (code as BusErrorCode) : 'INTERNAL';
}

/** QUIT when connected (bounded), otherwise drop the connection at once: a close never hangs. */
export async function closeConnection(redis: IORedis | undefined, timeoutMs = 2_000): Promise<void> {
  if (!redis) return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        redis.disconnect();
        resolve();
      }, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}
