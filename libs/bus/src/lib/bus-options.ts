/** Where the bus lives and the key that seals its payloads; shared by clients and servers. */
export interface BusConnectionOptions {
  redisUrl: string;
  /** 32-byte shared key (BUS_KEY) sealing request payloads at rest in Redis. */
  busKey: Buffer;
  /** Redis key prefix of every bus queue and channel (lets tests and tenants share a server). */
  prefix?: string;
}

export interface BusServerOptions extends BusConnectionOptions {
  /** The service whose request queue this server consumes. */
  service: string;
  /** Requests one process handles at once. */
  concurrency?: number;
}

export interface BusClientOptions extends BusConnectionOptions {
  /** Timeout of a request when the call does not give one. */
  defaultTimeoutMs?: number;
  /** Names the client's Redis connections (CLIENT LIST), e.g. the calling service. */
  name?: string;
  /**
   * Send the requests issued in one tick in one write (ioredis auto-pipelining). Worth it for a
   * caller with many requests in flight (the gateway: +10–25 % REST throughput in bench:tokens);
   * costs latency at ordinary rates. Default off.
   */
  autoPipelining?: boolean;
}

export const DEFAULT_BUS_PREFIX = 'broker';
export const DEFAULT_BUS_TIMEOUT_MS = 5_000;
