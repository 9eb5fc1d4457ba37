import { createServer } from 'node:net';
import { createRedisConnection } from '../src';

/** A port nothing listens on (taken, then released). */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Waits (at most 1 s) until `redis` is retrying its dead address, then disconnects it and reports,
 * each within 1 s, whether it emitted `end` and how the command queued before settled.
 */
async function disconnectWhileRetrying(
  redis: ReturnType<typeof createRedisConnection>,
  waiting: Promise<string>,
): Promise<{ statusBefore: string; ended: string; waited: string }> {
  for (let i = 0; i < 50 && redis.status !== 'reconnecting'; i++) await new Promise((r) => setTimeout(r, 20));
  const statusBefore = redis.status;
  const ended = new Promise<string>((resolve) => redis.once('end', () => resolve('end')));
  redis.disconnect();
  const timeout = new Promise<string>((resolve) =>
    setTimeout(() => resolve('still waiting after 1 s'), 1_000),
  );
  return {
    statusBefore,
    ended: await Promise.race([ended, timeout]),
    waited: await Promise.race([waiting, timeout]),
  };
}

describe('a connection closed while Redis is down', () => {
  it('ends at once: emits end and rejects the commands waiting for Redis, instead of waiting for ever', async () => {
    const redis = createRedisConnection(`redis://127.0.0.1:${await deadPort()}`, 'test:outage', {
      retryStrategy: () => 500,
    });
    // Queued for when Redis returns (maxRetriesPerRequest: null), as a bus server's BLPOP is.
    const waiting = redis.blpop('some-list', 1).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    const outcome = await disconnectWhileRetrying(redis, waiting);
    expect(outcome.statusBefore).toBe('reconnecting');
    expect(outcome.ended).toBe('end');
    expect(outcome.waited).toBe('Connection is closed.');
    expect(redis.status).toBe('end');
  });

  it('a Redis Cluster connection whose nodes are all down ends too', async () => {
    const redis = createRedisConnection(
      `redis+cluster://127.0.0.1:${await deadPort()},127.0.0.1:${await deadPort()}`,
      'test:cluster-outage',
      { retryStrategy: () => 500 },
    );
    const waiting = redis.get('some-key').then(
      () => 'answered',
      (err: Error) => err.message,
    );
    const outcome = await disconnectWhileRetrying(redis, waiting);
    expect(outcome.statusBefore).toBe('reconnecting');
    expect(outcome.ended).toBe('end');
    expect(outcome.waited).not.toBe('still waiting after 1 s');
    expect(redis.status).toBe('end');
  });
});
