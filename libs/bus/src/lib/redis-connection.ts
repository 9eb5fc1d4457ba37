import { Logger } from '@nestjs/common';
import IORedis, { RedisOptions } from 'ioredis';
import { createRedisConnection as createConnection } from '@broker/bus-protocol';

const logger = new Logger('Redis');

/**
 * A Redis connection of a service (see bus-protocol's createRedisConnection) whose outages are
 * logged through Nest: one line when it is lost, one when it is back.
 */
export function createRedisConnection(url: string, name: string, extra: RedisOptions = {}): IORedis {
  return createConnection(url, name, extra, logger);
}

/**
 * Logs the 'error' events of a BullMQ queue or worker (their Redis connections are BullMQ's own):
 * without a listener BullMQ prints each one as a multi-line dump. The same message is logged at
 * most once per 30 s.
 */
export function reportQueueErrors(
  emitter: { on(event: 'error', listener: (err: Error) => void): unknown },
  name: string,
): void {
  const lastLogged = new Map<string, number>();
  emitter.on('error', (err: Error) => {
    const now = Date.now();
    if (now - (lastLogged.get(err.message) ?? 0) < 30_000) return;
    lastLogged.set(err.message, now);
    logger.warn(`${name}: ${err.message}`);
  });
}
