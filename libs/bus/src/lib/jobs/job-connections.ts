import { Logger } from '@nestjs/common';
import { RedisConnection as BullRedisConnection, createIORedisClient } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { ConnectionLogger, createRedisConnection } from '@broker/bus-protocol';

/**
 * Makes BullMQ open its connections (queues, workers and each worker's blocking connection) with
 * the services' own connection factory, so they follow REDIS_URL in every form it takes (one
 * server, `redis+cluster://`, `redis+sentinel://`) and share its behaviour during an outage (a
 * `quit()` or `disconnect()` that does not wait for Redis to return, so a worker asked to stop
 * while Redis is down exits).
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
    return createIORedisClient(
      createRedisConnection(target, rest.connectionName ?? 'jobs', rest, jobConnectionsOutage),
    );
  };
}

/**
 * One line when the first of the process's BullMQ connections loses Redis and one when the last
 * is back: a worker holds some twenty of them (a queue, a worker and a blocking connection per
 * queue), and a line each made an outage of a few seconds sixty lines. The queues' and workers'
 * own errors are logged (rate-limited) by reportQueueErrors.
 */
const jobConnectionsOutage: ConnectionLogger = (() => {
  const logger = new Logger('Redis');
  let down = 0;
  return {
    warn(message: string) {
      if (down++ === 0) logger.warn(`job queues: ${message.replace(/^[^:]*: /, '')}`);
    },
    log() {
      if (down > 0 && --down === 0) logger.log('job queues: reconnected');
    },
  };
})();
