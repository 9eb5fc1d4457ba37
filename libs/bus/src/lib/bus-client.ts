import type { OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy, ReadPacket, WritePacket } from '@nestjs/microservices';
import { BUS_PATTERN_OWNERS, BusPattern, BusReply, BusRequest } from '@broker/contracts';
import {
  BusCallOptions as RequesterCallOptions,
  BusClientStats,
  BusRemoteError,
  BusRequester,
  BusUnavailableError,
} from '@broker/bus-protocol';
import type { BusClientOptions } from './bus-options';

export type { BusClientStats } from '@broker/bus-protocol';

export interface BusCallOptions extends RequesterCallOptions {
  /** Target service; by default the owner of the pattern in the contracts. */
  service?: string;
}

/**
 * Nest ClientProxy for the bus (see BusServer), over the framework-free BusRequester: requests are
 * sealed to the target service's public key, replies open only with the key of their own request.
 * Every call has a deadline and ends with a typed error.
 */
export class BusClientProxy extends ClientProxy implements OnApplicationShutdown {
  private readonly requester: BusRequester;

  constructor(options: BusClientOptions) {
    super();
    this.requester = new BusRequester(options);
  }

  get clientId(): string {
    return this.requester.clientId;
  }

  /** The channel this instance receives its replies on. */
  get replyChannel(): string {
    return this.requester.replyChannel;
  }

  /** Opens the Redis connections and subscribes to this instance's reply channel (idempotent). */
  connect(): Promise<void> {
    return this.requester.connect();
  }

  close(): Promise<void> {
    return this.requester.close();
  }

  /** Nest calls this when the app closes: pending calls fail with UNAVAILABLE, connections close. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  unwrap<T>(): T {
    return this.requester.redis as T;
  }

  stats(): BusClientStats {
    return this.requester.stats();
  }

  /** Typed request/reply: resolves with the reply or rejects with a BusError subclass. */
  request<P extends BusPattern>(
    pattern: P,
    data: BusRequest<P>,
    options: BusCallOptions = {},
  ): Promise<BusReply<P>> {
    const service = options.service ?? BUS_PATTERN_OWNERS[pattern];
    return this.requester.call(service, pattern, data, options) as Promise<BusReply<P>>;
  }

  /** Request/reply by pattern name, for patterns outside the contracts (tests, tools). */
  call(
    service: string,
    pattern: string,
    data: unknown,
    options: RequesterCallOptions = {},
  ): Promise<unknown> {
    return this.requester.call(service, pattern, data, options);
  }

  /** Fire-and-forget request to one replica of the target service (no reply). */
  emitTo(service: string, pattern: string, data: unknown, options: RequesterCallOptions = {}): Promise<void> {
    return this.requester.emitTo(service, pattern, data, options);
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const pattern = this.normalizePattern(packet.pattern);
    const service = BUS_PATTERN_OWNERS[pattern as BusPattern];
    if (!service) {
      callback({
        err: new BusRemoteError(pattern, { code: 'NO_HANDLER', message: `no owner for '${pattern}'` }),
        isDisposed: true,
      });
      return () => undefined;
    }
    this.requester.call(service, pattern, packet.data).then(
      (response) => callback({ response, isDisposed: true }),
      (err: unknown) => callback({ err, isDisposed: true }),
    );
    return () => undefined;
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const pattern = this.normalizePattern(packet.pattern);
    const service = BUS_PATTERN_OWNERS[pattern as BusPattern];
    if (!service) throw new BusUnavailableError(pattern, `no owner for '${pattern}'`);
    await this.requester.emitTo(service, pattern, packet.data);
    return undefined as T;
  }
}
