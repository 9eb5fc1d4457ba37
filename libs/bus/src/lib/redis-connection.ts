import { Logger } from '@nestjs/common';
import IORedis, { RedisOptions } from 'ioredis';

const logger = new Logger('Redis');

/**
 * A Redis connection for BullMQ. `maxRetriesPerRequest: null` is what BullMQ workers require;
 * commands wait for a reconnect instead of failing, and callers bound their own waits.
 */
export function createRedisConnection(url: string, name: string, extra: RedisOptions = {}): IORedis {
  const redis = new IORedis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
    lazyConnect: false,
    ...extra,
  });
  reportOutages(redis, name);
  quitWithoutWaitingForRedis(redis);
  return redis;
}

/**
 * `quit()` sends QUIT and waits for its reply; on a connection that is reconnecting (Redis down)
 * the command is queued until Redis is back (`maxRetriesPerRequest: null`), so a service asked to
 * stop during an outage never exited (measured: a gateway ignored SIGTERM until killed). Not
 * connected, there is nothing to say goodbye to: close the socket and stop reconnecting.
 */
function quitWithoutWaitingForRedis(redis: IORedis): void {
  const quit = redis.quit.bind(redis);
  redis.quit = ((callback?: (err?: Error | null, res?: 'OK') => void) => {
    if (redis.status === 'ready') return quit(callback);
    redis.disconnect();
    callback?.(null, 'OK');
    return Promise.resolve('OK');
  }) as IORedis['quit'];
}

/**
 * ioredis reconnects by itself, but without an 'error' listener it prints a stack trace for every
 * failed attempt (about 120 lines per service for a 2 s Redis restart). One line when a connection
 * is lost and one when it is back say the same.
 */
function reportOutages(redis: IORedis, name: string): void {
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.warn(`${name}: ${err.message}; reconnecting`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log(`${name}: reconnected`);
  });
}

/**
 * Logs the 'error' events of a BullMQ queue or worker (their Redis connections are BullMQ's own):
 * without a listener BullMQ prints each one as a multi-line dump. The same message is logged at
 * most once per 30 s.
 */
export function reportQueueErrors(emitter: { on(event: 'error', listener: (err: Error) => void): unknown }, name: string): void {
  const lastLogged = new Map<string, number>();
  emitter.on('error', (err: Error) => {
    const now = Date.now();
    if (now - (lastLogged.get(err.message) ?? 0) < 30_000) return;
    lastLogged.set(err.message, now);
    logger.warn(`${name}: ${err.message}`);
  });
}
