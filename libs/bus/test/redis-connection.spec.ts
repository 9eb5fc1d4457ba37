import { createServer } from 'node:net';
import { createRedisConnection } from '../src';
import { testRedisUrl } from '@broker/testing';

/** A port where nothing listens (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves when the connection has ended for good (no more reconnects); rejects after 2 s. */
function ended(redis: ReturnType<typeof createRedisConnection>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (redis.status === 'end') return resolve();
    const timer = setTimeout(() => reject(new Error(`still ${redis.status}`)), 2_000);
    redis.once('end', () => (clearTimeout(timer), resolve()));
  });
}

describe('Redis connections and outages', () => {
  it('quit() during an outage closes at once instead of waiting for Redis to come back', async () => {
    const redis = createRedisConnection(`redis://127.0.0.1:${await deadPort()}`, 'spec:outage');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(redis.status).not.toBe('ready');
    const started = Date.now();
    await expect(redis.quit()).resolves.toBe('OK');
    expect(Date.now() - started).toBeLessThan(500);
    // And it stops trying: no reconnect attempt afterwards (they come every 50–2000 ms otherwise).
    let attempts = 0;
    redis.on('reconnecting', () => (attempts += 1));
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(attempts).toBe(0);
    expect(redis.status).not.toBe('ready');
  });

  it('quit() on a live connection still says goodbye with QUIT', async () => {
    const redis = createRedisConnection(testRedisUrl(), 'spec:live');
    await redis.ping();
    await expect(redis.quit()).resolves.toBe('OK');
    await ended(redis);
  });
});
