import type { ZodType } from 'zod';
import type { BusRequesterOptions, ServiceKeyPair } from '@broker/bus-protocol';

export { DEFAULT_BUS_PREFIX, DEFAULT_BUS_TIMEOUT_MS } from '@broker/bus-protocol';

export interface BusServerOptions {
  redisUrl: string;
  /** Redis key prefix of every bus list and channel (lets tests and tenants share a server). */
  prefix?: string;
  /** The service whose request list this server consumes. */
  service: string;
  /** This service's key pairs (BUS_SERVICE_PRIVATE_KEY): current first, then one still accepted during a rotation. */
  keys: ServiceKeyPair[];
  /** Requests one process handles at once. */
  concurrency?: number;
  /**
   * Payload schema of each pattern; by default the contracts' (`BUS_REQUEST_SCHEMAS`). A request
   * for a pattern without a schema is refused: nothing reaches a handler unchecked.
   */
  requestSchemas?: Readonly<Record<string, ZodType>>;
  /** Names the Redis connections (CLIENT LIST); default `bus-server:<service>`. */
  name?: string;
  /**
   * Called once per answered request, after its handler, with its outcome (`ok` or the error code)
   * and the handler's time: metrics without a Nest interceptor around every handler (an
   * interceptor turns each plain handler value into an Observable pipeline).
   */
  onHandled?: (pattern: string, outcome: string, seconds: number) => void;
  /**
   * Records when each request was popped, opened and marked on its `BusContext` (`getStamps()`):
   * for the latency breakdown of `npm run bench:bus`; off by default (three clock reads a request).
   */
  stampPhases?: boolean;
}

export type BusClientOptions = BusRequesterOptions;
