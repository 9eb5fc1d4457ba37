import IORedis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { RedisTopology, parseRedisUrl } from './redis-topology';

/** A connection to one Redis server (or Sentinel's master) or to a Redis Cluster: the commands are the same. */
export type RedisConnection = IORedis | Cluster;

/** Where a connection reports an outage and its end (a Nest Logger fits; none = silent). */
export interface ConnectionLogger {
  warn(message: string): void;
  log(message: string): void;
}

/**
 * A Redis connection for BullMQ. `maxRetriesPerRequest: null` is what BullMQ workers require;
 * commands wait for a reconnect instead of failing, and callers bound their own waits.
 * Framework-free (the client package uses it): outages go to the given logger, if any.
 *
 * `url` is REDIS_URL in any of the forms parseRedisUrl takes: one server, a Redis Cluster
 * (`redis+cluster://`, an ioredis Cluster) or Sentinel (`redis+sentinel://`), so every connection
 * of a service follows the one setting.
 */
export function createRedisConnection(
  url: string,
  name: string,
  extra: RedisOptions = {},
  logger?: ConnectionLogger,
): IORedis {
  const redis = connect(parseRedisUrl(url), {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: name,
    lazyConnect: false,
    ...extra,
  });
  reportOutages(redis, name, logger);
  quitWithoutWaitingForRedis(redis);
  if (redis instanceof IORedis) endWhenClosedBetweenRetries(redis);
  else endClusterWhenClosedWithoutNodes(redis);
  // Typed as one server's client so that the dozen callers (bus, events, rate limits, revocation
  // pings; several owned by parallel work) need no change: a Cluster has the same command methods
  // and the same events ('error', 'ready', 'message', 'close'), which is all they use. What differs
  // (duplicate()'s arguments, the socket internals) is used by no caller; new code should take
  // `RedisConnection`.
  return redis as IORedis;
}

function connect(topology: RedisTopology, options: RedisOptions): RedisConnection {
  switch (topology.kind) {
    case 'single':
      return new IORedis(topology.url, options);
    case 'sentinel': {
      const { sentinels, masterName, username, password, sentinelUsername, sentinelPassword, db, tls } =
        topology;
      return new IORedis({
        ...options,
        sentinels,
        name: masterName,
        username,
        password,
        sentinelUsername,
        sentinelPassword,
        db,
        ...(tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      });
    }
    case 'cluster':
      return new Cluster(topology.nodes, clusterOptions(topology, options));
  }
}

/**
 * ioredis takes a Cluster's options in two layers: how the cluster client behaves (offline queue,
 * ready check, reconnects) and, under `redisOptions`, how it talks to each node. The options the
 * callers give for one server are split accordingly: `retryStrategy` becomes the cluster's
 * reconnect strategy (a node connection of a Cluster does not reconnect by itself).
 */
function clusterOptions(
  topology: Extract<RedisTopology, { kind: 'cluster' }>,
  options: RedisOptions,
): ClusterOptions {
  const { enableOfflineQueue, enableReadyCheck, lazyConnect, enableAutoPipelining, retryStrategy, ...node } =
    options;
  return {
    enableOfflineQueue,
    enableReadyCheck,
    lazyConnect,
    enableAutoPipelining,
    clusterRetryStrategy: retryStrategy ?? ((times: number) => Math.min(1_000, 100 * times)),
    redisOptions: {
      ...node,
      username: topology.username,
      password: topology.password,
      ...(topology.tls ? { tls: {} } : {}),
    },
  };
}

/**
 * `quit()` sends QUIT and waits for its reply; on a connection that is reconnecting (Redis down)
 * the command is queued until Redis is back (`maxRetriesPerRequest: null`), so a service asked to
 * stop during an outage never exited (measured: a gateway ignored SIGTERM until killed). Not
 * connected, there is nothing to say goodbye to: close the socket and stop reconnecting.
 */
function quitWithoutWaitingForRedis(redis: RedisConnection): void {
  const quit = redis.quit.bind(redis);
  redis.quit = ((callback?: (err?: Error | null, res?: 'OK') => void) => {
    if (redis.status === 'ready') return quit(callback);
    redis.disconnect();
    callback?.(null, 'OK');
    return Promise.resolve('OK');
  }) as RedisConnection['quit'];
}

/** The two ioredis internals a connection closed between reconnect attempts needs (ioredis 5). */
interface ConnectionInternals {
  setStatus(status: 'end'): void;
  flushQueue(error: Error): void;
}

/**
 * `disconnect()` on a connection waiting for its next reconnect attempt (Redis down) clears the
 * timer but leaves it 'reconnecting' for ever: there is no socket left to emit the 'close' that
 * would end it, so it never emits 'end' and the commands queued for Redis's return (a BLPOP,
 * BullMQ's BZPOPMIN) never settle. Whoever waited for them hung: a bus server's receive loop, a
 * BullMQ worker's close (it disconnects its blocking connection and waits for 'end'), and so the
 * service's shutdown until Kubernetes killed it. Ended here as ioredis ends a connection closed
 * on purpose: status 'end' (emitted) and the queued commands rejected.
 */
function endWhenClosedBetweenRetries(redis: IORedis): void {
  const disconnect = redis.disconnect.bind(redis);
  redis.disconnect = (reconnect = false) => {
    const betweenRetries = redis.status === 'reconnecting';
    disconnect(reconnect);
    if (reconnect || !betweenRetries || redis.status !== 'reconnecting') return;
    const internals = redis as unknown as Partial<ConnectionInternals>;
    if (typeof internals.setStatus !== 'function' || typeof internals.flushQueue !== 'function') return;
    internals.setStatus('end');
    internals.flushQueue(new Error('Connection is closed.'));
  };
}

/**
 * The same gap in ioredis' Cluster: `disconnect()` hands the end to its node pool, and when every
 * node is already gone (the whole cluster down, the client between two attempts) the pool has
 * nobody left to report it, so the client stays 'disconnecting' with its queued commands. Ended
 * here through the Cluster's own close path (it ends, since the close was asked for).
 */
function endClusterWhenClosedWithoutNodes(cluster: Cluster): void {
  const disconnect = cluster.disconnect.bind(cluster);
  cluster.disconnect = (reconnect = false) => {
    // With nodes, their ends reach the pool, which ends the client ('drain'): nothing to add.
    const noNodeLeft = cluster.nodes('all').length === 0;
    disconnect(reconnect);
    if (reconnect || !noNodeLeft || cluster.status !== 'disconnecting') return;
    const close = (cluster as unknown as { handleCloseEvent?: () => void }).handleCloseEvent;
    if (typeof close === 'function') close.call(cluster);
  };
}

/**
 * ioredis reconnects by itself, but without an 'error' listener it prints a stack trace for every
 * failed attempt (about 120 lines per service for a 2 s Redis restart). One line when a connection
 * is lost and one when it is back say the same.
 */
function reportOutages(redis: RedisConnection, name: string, logger: ConnectionLogger | undefined): void {
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
