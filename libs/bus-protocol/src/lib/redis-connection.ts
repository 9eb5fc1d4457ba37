import IORedis, { RedisOptions } from 'ioredis';

/** Where a connection reports an outage and its end (a Nest Logger fits; none = silent). */
export interface ConnectionLogger {
  warn(message: string): void;
  log(message: string): void;
}

/**
 * A Redis connection for BullMQ. `maxRetriesPerRequest: null` is what BullMQ workers require;
 * commands wait for a reconnect instead of failing, and callers bound their own waits.
 * Framework-free (the client package uses it): outages go to the given logger, if any.
 */
export function createRedisConnection(url: string, name: string, extra: RedisOptions = {}, logger?: ConnectionLogger): IORedis {
  const redis = new IORedis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
    lazyConnect: false,
    ...extra,
  });
  reportOutages(redis, name, logger);
  return redis;
}

/**
 * ioredis reconnects by itself, but without an 'error' listener it prints a stack trace for every
 * failed attempt (about 120 lines per service for a 2 s Redis restart). One line when a connection
 * is lost and one when it is back say the same.
 */
function reportOutages(redis: IORedis, name: string, logger: ConnectionLogger | undefined): void {
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger?.warn(`${name}: ${err.message}; reconnecting`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger?.log(`${name}: reconnected`);
  });
}
