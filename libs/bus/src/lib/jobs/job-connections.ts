import { RedisConnection as BullRedisConnection, createIORedisClient } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { createRedisConnection } from '../redis-connection';

/**
 * Makes BullMQ open its connections (queues, workers and each worker's blocking connection) with
 * the services' own connection factory, so they follow REDIS_URL in every form it takes (one
 * server, `redis+cluster://`, `redis+sentinel://`) and share its behaviour during an outage (one
 * log line, a `quit()` that does not wait for Redis to return).
 *
 * Why a factory rather than a Cluster instance in `connection`: BullMQ never closes a connection
 * it was given (it is "shared"), so the service would have to close it after every queue and
 * worker closed, an order Nest's shutdown hooks do not give. From the factory, BullMQ owns and
 * closes each connection as it does with connection options. The hook is process-wide (a static
 * of BullMQ); setting it again replaces it with the same function.
 */
export function openJobConnectionsWithServiceFactory(): void {
  BullRedisConnection.clientFactory = (opts: RedisOptions & { url?: string }) => {
    // BullMQ adds its defaults (host, port) to the options it was given; the URL says where Redis is.
    const { url, host, port, ...rest } = opts;
    const target = url ?? `redis://${host ?? '127.0.0.1'}:${port ?? 6379}`;
    return createIORedisClient(createRedisConnection(target, rest.connectionName ?? 'jobs', rest));
  };
}
