import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import IORedis from 'ioredis';
import { isObservable, lastValueFrom } from 'rxjs';
import type { ZodType } from 'zod';
import { BUS_REQUEST_SCHEMAS, BusErrorPayload, isBusErrorPayload } from '@broker/contracts';
import {
  ReplyBody,
  RequestEnvelope,
  RequestOpenError,
  ServiceKeyPair,
  SessionKeys,
  TickBatch,
  boundedError,
  closeConnection,
  openRequest,
  parseRequestEnvelope,
  requestListKey,
  sealReply,
  seenKey,
} from '@broker/bus-protocol';
import { BusContext } from './bus-context';
import { createRedisConnection } from './redis-connection';
import { DEFAULT_BUS_PREFIX, type BusServerOptions } from './bus-options';
import { validateBusPayload } from './bus-payload.pipe';
import { BusServerCounters, type BusServerStats, type DropReason } from './drop-counters';
import { MarkersWithPop } from './markers-with-pop';
import { BATCH, POP_WAIT_SECONDS, RequestPopper } from './request-pop';

export type { BusServerStats, DropReason } from './drop-counters';

/** A deadline further ahead than this is refused: it bounds how long a request id is remembered. */
export const MAX_DEADLINE_AHEAD_MS = 10 * 60_000;

const INTERNAL_ERROR: BusErrorPayload = { code: 'INTERNAL', message: 'internal error' };

/**
 * Nest microservice transport on a Redis list per service: callers RPUSH sealed requests, each
 * replica BLPOPs them, so each request is handled by exactly one replica, and requests pushed while
 * no replica runs are handled when one starts (unless their caller's deadline passed).
 *
 * Redis is not trusted: a request is acted on only if it opens under its caller's HPKE session with
 * one of this service's private keys (every routing fact bound), is within its deadline, has not
 * been acted on before (a `SET NX` on a hash of its id, kept until the deadline) and its payload
 * matches the pattern's schema. The reply is sealed under a key of that session and the request
 * id, so only the caller can read it, and a reply that opens proves it came from a holder of the
 * service's key (sealing.ts).
 *
 * Why a list and not one BullMQ job per request (the first version): a job costs several Lua
 * scripts, an events stream entry and lock bookkeeping, which measured 0.8 ms p50 per round trip.
 * Request/reply needs none of it: the caller's deadline is the retry policy, and a request lost
 * with a crashed replica ends in the caller's typed timeout (at most once, never run twice).
 */
export class BusServer extends Server implements CustomTransportStrategy {
  private blocking?: IORedis;
  private publisher?: IORedis;
  private readonly prefix: string;
  private readonly listKey: string;
  private readonly keys: ReadonlyMap<string, ServiceKeyPair>;
  /** Callers' sessions this replica has opened requests of (their keys, bounded). */
  private readonly sessions = new SessionKeys();
  private readonly schemas: Readonly<Record<string, ZodType>>;
  private readonly concurrency: number;
  private readonly inflight = new Set<Promise<void>>();
  private readonly counters: BusServerStats;
  private readonly drops: BusServerCounters;
  private readonly popper: RequestPopper;
  private slotFreed?: () => void;
  private closing = false;
  private loop?: Promise<void>;
  /**
   * The publisher connection's commands of one turn in one write: the replies ready together, and
   * the replay markers that could not go with a pop.
   */
  private readonly commands = new TickBatch(() => this.publisher);
  /** The replay markers of a popped batch, sent with the next pop where they can (markers-with-pop.ts). */
  private readonly markers = new MarkersWithPop(this.commands);
  /** The blocking connection's id in Redis (CLIENT ID), to un-block its pop at close. */
  private blockingId?: number;

  constructor(private readonly options: BusServerOptions) {
    super();
    if (options.keys.length === 0)
      throw new Error(`bus server '${options.service}' needs at least one key pair`);
    this.prefix = options.prefix ?? DEFAULT_BUS_PREFIX;
    this.listKey = requestListKey(this.prefix, options.service);
    this.keys = new Map(options.keys.map((k) => [k.kid, k]));
    this.schemas = options.requestSchemas ?? (BUS_REQUEST_SCHEMAS as unknown as Record<string, ZodType>);
    this.concurrency = options.concurrency ?? 64;
    this.drops = new BusServerCounters(this.listKey, () => this.logger);
    this.counters = this.drops.counts;
    this.popper = new RequestPopper(
      this.listKey,
      (raw) => this.start(raw),
      (message) => this.logger.error(`bus receive failed: ${message}`),
      () => this.closing,
    );
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    const name = this.options.name ?? `bus-server:${this.options.service}`;
    // No auto-pipelining for replies: it batches only under heavy load and costs latency (a pipeline
    // object per reply) at ordinary rates (p99 at 1 000 req/s: 7.1 ms with it, 5.0 ms without).
    this.publisher = createRedisConnection(this.options.redisUrl, `${name}:publish`);
    this.blocking = createRedisConnection(this.options.redisUrl, `${name}:requests`);
    // Its id at every (re)connect: 'ready' comes before the first command is sent (the pings below),
    // and after a reconnect the id is read before the loop's next pop, so it is answered at once.
    const blocking = this.blocking;
    blocking.on('ready', () => this.readBlockingId(blocking));
    Promise.all([this.publisher.ping(), this.blocking.ping()]).then(
      () => {
        this.loop = this.consume();
        callback();
      },
      (err: unknown) => callback(err),
    );
  }

  /**
   * Stops taking requests, lets the ones being handled answer, then closes the connections.
   *
   * The pop in flight is not cut: a pop Redis has served but whose reply has not been read yet
   * would lose its requests with the connection (Redis drops a closed client's unsent replies), and
   * their callers would wait until their timeout. It is un-blocked instead (CLIENT UNBLOCK from the
   * publisher connection: it returns empty, or with what it had already taken, which is handled);
   * where the ACL user may not (the services' users run no @dangerous command), it returns by its
   * own timeout. Only a pop that does not return by then (Redis unreachable) is cut.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.slotFreed?.();
    if (this.publisher && this.blockingId !== undefined)
      void this.publisher.call('client', 'unblock', this.blockingId).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.loop?.then(() => true) ?? true,
      new Promise<false>(
        (resolve) => (timer = setTimeout(() => resolve(false), POP_WAIT_SECONDS * 1000 + 1000)),
      ),
    ]);
    clearTimeout(timer);
    if (!stopped) this.blocking?.disconnect();
    await this.loop;
    await Promise.allSettled([...this.inflight]);
    await Promise.all([closeConnection(this.blocking), closeConnection(this.publisher)]);
  }

  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- the signature Nest's Server declares
  on(event: string, callback: Function): void {
    this.blocking?.on(event, callback as (...args: unknown[]) => void);
  }

  unwrap<T>(): T {
    return this.blocking as T;
  }

  /** What this replica handled and dropped (for tests, metrics and the attack suite). */
  stats(): BusServerStats {
    return this.drops.snapshot();
  }

  private async consume(): Promise<void> {
    const redis = this.blocking;
    if (!redis) return;
    try {
      while (!this.closing) {
        if (this.inflight.size >= this.concurrency) {
          // The markers of the last batch do not wait for a slot.
          this.markers.flush();
          await new Promise<void>((resolve) => (this.slotFreed = resolve));
          continue;
        }
        // Under load more requests are waiting: take a few in the same round trip (a small batch,
        // so the other replicas still get their share).
        const room = Math.min(this.concurrency - this.inflight.size, BATCH);
        let popped: string[];
        try {
          popped = await this.markers.sendWith(redis, () => this.popper.pop(redis, room));
        } catch (err) {
          if (this.closing) return;
          if (this.popper.stepDown(err)) continue;
          this.logger.error(`bus receive failed: ${(err as Error).message}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
          continue;
        }
        if (popped.length === 0) continue;
        const poppedAt = this.options.stampPhases ? monotonicMs() : 0;
        this.markers.open();
        for (const raw of popped) this.start(raw, poppedAt);
        // The requests of the batch open in this turn's microtasks (a known caller session needs
        // no I/O) and queue their markers, which then leave with the next pop.
        await new Promise<void>((resolve) => process.nextTick(resolve));
      }
    } finally {
      this.markers.flush();
    }
  }

  private readBlockingId(blocking: IORedis): void {
    blocking.client('ID').then(
      (id) => (this.blockingId = Number(id)),
      () => undefined,
    );
  }

  private start(raw: string, poppedAt = 0): void {
    const task = this.handle(raw, poppedAt).catch((err: unknown) =>
      this.logger.error(`bus request failed: ${(err as Error).message}`),
    );
    this.inflight.add(task);
    void task.finally(() => {
      this.inflight.delete(task);
      const wake = this.slotFreed;
      this.slotFreed = undefined;
      wake?.();
    });
  }

  private drop(reason: DropReason, detail: string): void {
    this.drops.drop(reason, detail);
  }

  private async handle(raw: string, poppedAt: number): Promise<void> {
    let envelope: RequestEnvelope | undefined;
    try {
      envelope = parseRequestEnvelope(JSON.parse(raw));
    } catch {
      return this.drop('malformed', 'not JSON');
    }
    if (!envelope) return this.drop('malformed', 'not a request envelope');
    const now = Date.now();
    // The caller has stopped waiting: answering now would only do work nobody reads.
    if (now > envelope.d) return this.drop('expired', envelope.p);
    if (envelope.d > now + MAX_DEADLINE_AHEAD_MS) return this.drop('bad-deadline', envelope.p);
    if (envelope.r !== undefined && !envelope.r.startsWith(`${this.prefix}:bus:reply:`))
      return this.drop('bad-reply-channel', envelope.p);

    let opened: Awaited<ReturnType<typeof openRequest>>;
    try {
      opened = await openRequest(this.listKey, this.keys, envelope, this.sessions);
    } catch (err) {
      if (err instanceof RequestOpenError)
        return this.drop(err.reason === 'malformed' ? 'malformed' : err.reason, envelope.p);
      throw err;
    }
    const openedAt = this.options.stampPhases ? monotonicMs() : 0;
    // At most once: the first replica to mark the id acts; a copy pushed again is dropped. The
    // marker lives until the deadline, after which the request is refused as expired anyway. Set
    // only once the request opened (an id nobody authenticated cannot be burnt by a stranger);
    // the requests of a popped batch are marked together, in the write of the next pop
    // (markers-with-pop.ts), and two copies in one batch are two SET NX in order: the second is refused.
    if (!this.publisher) return;
    const first = await this.markers.mark(seenKey(this.prefix, this.options.service, envelope.i), envelope.d);
    if (first !== 'OK') return this.drop('replayed', envelope.p);
    const stamps = this.options.stampPhases
      ? { popped: poppedAt, opened: openedAt, marked: monotonicMs() }
      : undefined;

    const { body, replyKey } = opened;
    const context = new BusContext({
      pattern: envelope.p,
      requestId: envelope.i,
      deadline: envelope.d,
      auth: body.auth,
      traceparent: body.tp,
      ...(stamps ? { stamps } : {}),
    });
    // A plain pattern is its own route: looked up as it is first (Nest's getHandlerByPattern tries
    // JSON.parse on every pattern, which throws, stack trace and all, for a plain one).
    const handler = this.messageHandlers.get(envelope.p) ?? this.getHandlerByPattern(envelope.p);
    const reply = (answer: ReplyBody) => this.reply(envelope, replyKey, answer);
    // Own keys only: a pattern such as `constructor` names nothing here.
    const schema = Object.hasOwn(this.schemas, envelope.p) ? this.schemas[envelope.p] : undefined;
    const payload = validateBusPayload(schema, envelope.p, body.data);
    if (!envelope.r) {
      if (handler?.isEventHandler && payload.ok)
        await this.handleEvent(envelope.p, { pattern: envelope.p, data: payload.data }, context);
      return;
    }
    if (!handler)
      return reply({ ok: false, error: { code: 'NO_HANDLER', message: `no handler for '${envelope.p}'` } });
    if (!payload.ok) {
      this.counters.invalid++;
      return reply({ ok: false, error: payload.error });
    }
    let answer: ReplyBody;
    const started = this.options.onHandled ? process.hrtime.bigint() : 0n;
    try {
      // Nest's proxy hands back the handler's value, or an Observable (an observable handler, or
      // an exception filter's answer): only the latter goes through RxJS.
      const result = await handler(payload.data, context);
      answer = {
        ok: true,
        data: isObservable(result) ? await lastValueFrom(result, { defaultValue: null }) : result,
      };
    } catch (err) {
      answer = { ok: false, error: isBusErrorPayload(err) ? pickError(err) : INTERNAL_ERROR };
    }
    this.counters.handled++;
    this.options.onHandled?.(
      envelope.p,
      answer.ok ? 'ok' : answer.error.code,
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    await reply(answer);
  }

  private async reply(envelope: RequestEnvelope, replyKey: Buffer, body: ReplyBody): Promise<void> {
    if (!envelope.r || !this.publisher) return;
    if (Date.now() > envelope.d) return this.drop('late', envelope.p);
    if (!body.ok) body = { ok: false, error: boundedError(body.error) };
    await this.commands.send(
      'publish',
      envelope.r,
      JSON.stringify({ i: envelope.i, s: sealReply(replyKey, envelope.i, body) }),
    );
  }
}

/** Monotonic milliseconds, comparable across this machine's processes (CLOCK_MONOTONIC). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function pickError(err: BusErrorPayload): BusErrorPayload {
  return err.fields
    ? { code: err.code, message: err.message, fields: err.fields }
    : { code: err.code, message: err.message };
}
