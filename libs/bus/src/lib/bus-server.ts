import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import { Job, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { BusErrorPayload, isBusErrorPayload } from '@broker/contracts';
import { ReplyKeyAgreement, deriveRequestKey, open, seal } from './bus-crypto';
import { BusContext } from './bus-context';
import { BusServerOptions, DEFAULT_BUS_PREFIX } from './bus-options';
import { createRedisConnection } from './redis-connection';
import {
  ReplyBody,
  ReplyMessage,
  RequestBody,
  RequestEnvelope,
  busQueueName,
  replyAad,
  requestAad,
} from './wire';

const INTERNAL_ERROR: BusErrorPayload = { code: 'INTERNAL', message: 'internal error' };

/**
 * Nest microservice transport on BullMQ: consumes the service's request queue, so each request is
 * handled by exactly one replica, and requests queued while no replica runs are handled when one
 * starts. Replies go to the caller's own channel, sealed for that caller only.
 */
export class BusServer extends Server implements CustomTransportStrategy {
  private worker?: Worker;
  private publisher?: IORedis;
  private readonly requestKey: Buffer;
  private readonly keys = new ReplyKeyAgreement();
  private readonly queue: string;
  private readonly prefix: string;

  constructor(private readonly options: BusServerOptions) {
    super();
    this.requestKey = deriveRequestKey(options.busKey);
    this.queue = busQueueName(options.service);
    this.prefix = options.prefix ?? DEFAULT_BUS_PREFIX;
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    const name = `bus-server:${this.options.service}`;
    this.publisher = createRedisConnection(this.options.redisUrl, `${name}:publish`);
    this.worker = new Worker(this.queue, (job) => this.handle(job), {
      connection: createRedisConnection(this.options.redisUrl, `${name}:worker`),
      prefix: this.prefix,
      concurrency: this.options.concurrency ?? 64,
      autorun: true,
    });
    this.worker.on('error', (err) => this.logger.error(`bus worker error: ${err.message}`));
    this.worker.waitUntilReady().then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.worker?.disconnect();
    await this.publisher?.quit().catch(() => undefined);
  }

  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- the signature Nest's Server declares
  on(event: string, callback: Function): void {
    this.worker?.on(event as 'error', callback as (err: Error) => void);
  }

  unwrap<T>(): T {
    return this.worker as T;
  }

  private async handle(job: Job<RequestEnvelope>): Promise<void> {
    const envelope = job.data;
    const id = job.id as string;
    // The caller has stopped waiting: answering now would only do work nobody reads.
    if (Date.now() > envelope.d) return;

    let body: RequestBody;
    try {
      body = JSON.parse(open(this.requestKey, envelope.s, requestAad(this.queue, id, envelope)).toString('utf8'));
    } catch {
      // Not sealed with our bus key (wrong key or tampered): there is no trusted caller to answer.
      this.logger.warn(`dropped bus request ${id} (${envelope.p}): payload does not open with the bus key`);
      return;
    }

    const context = new BusContext({ pattern: envelope.p, requestId: id, deadline: envelope.d, auth: body.auth });
    const handler = this.getHandlerByPattern(envelope.p);
    if (!envelope.r) {
      if (handler?.isEventHandler) await this.handleEvent(envelope.p, { pattern: envelope.p, data: body.data }, context);
      else this.logger.warn(`no event handler for '${envelope.p}'`);
      return;
    }
    if (!handler) {
      await this.reply(envelope, id, { ok: false, error: { code: 'NO_HANDLER', message: `no handler for '${envelope.p}'` } });
      return;
    }
    let reply: ReplyBody;
    try {
      const result$ = this.transformToObservable(await handler(body.data, context));
      reply = { ok: true, data: await lastValueFrom(result$, { defaultValue: null }) };
    } catch (err) {
      reply = { ok: false, error: isBusErrorPayload(err) ? pickError(err) : INTERNAL_ERROR };
    }
    await this.reply(envelope, id, reply);
  }

  private async reply(envelope: RequestEnvelope, id: string, body: ReplyBody): Promise<void> {
    if (!envelope.r || !envelope.k || !this.publisher) return;
    const key = this.keys.keyFor(envelope.k, 'server');
    const message: ReplyMessage = {
      i: id,
      k: this.keys.publicKey,
      s: seal(key, Buffer.from(JSON.stringify(body), 'utf8'), replyAad(id)),
    };
    await this.publisher.publish(envelope.r, JSON.stringify(message));
  }
}

function pickError(err: BusErrorPayload): BusErrorPayload {
  return err.fields ? { code: err.code, message: err.message, fields: err.fields } : { code: err.code, message: err.message };
}
