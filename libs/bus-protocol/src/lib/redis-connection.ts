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
