import { AddressInfo, Server, Socket, createServer } from 'node:net';
import IORedis from 'ioredis';
import { z } from 'zod';
import { BusClientProxy, BusServer } from '../src';
import {
  generateServiceKey,
  parseServicePrivateKeys,
  parseServicePublicKeys,
  requestListKey,
} from '@broker/bus-protocol';
import { sleep, testRedisUrl, uniquePrefix } from '@broker/testing';

/**
 * A TCP proxy to Redis that holds Redis' answers back for `delayMs`, and, when its client closes,
 * closes the Redis side at once and drops what it still holds: what Redis does with the unsent
 * replies of a client that closed. It stretches the moment between Redis serving a pop and the
 * replica reading it, which is otherwise a matter of microseconds.
 */
async function slowAnswers(redisUrl: string, delayMs: number): Promise<{ url: string; server: Server }> {
  const target = new URL(redisUrl);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const redis = new Socket();
    sockets.add(client).add(redis);
    let open = true;
    const closeBoth = () => {
      open = false;
      client.destroy();
      redis.destroy();
    };
    redis.connect(Number(target.port), target.hostname);
    client.on('data', (chunk) => redis.write(chunk));
    redis.on('data', (chunk) => setTimeout(() => open && client.write(chunk), delayMs));
    for (const s of [client, redis]) {
      s.on('end', closeBoth);
      s.on('error', closeBoth);
      s.on('close', () => sockets.delete(s));
    }
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `redis://127.0.0.1:${port}`, server };
}

describe('bus server close', () => {
  const redisUrl = testRedisUrl();
  const service = `close-${Math.random().toString(36).slice(2, 10)}`;
  const serviceKey = generateServiceKey('s1');

  it('handles the requests of a pop Redis had already served when close() began (a rolling deploy loses no caller)', async () => {
    const prefix = uniquePrefix('bus-close');
    const proxy = await slowAnswers(redisUrl, 400);
    const server = new BusServer({
      redisUrl: proxy.url,
      keys: parseServicePrivateKeys(serviceKey.privateKey),
      prefix,
      service,
      requestSchemas: { 'test.echo': z.strictObject({ n: z.number() }) },
    });
    server.addHandler('test.echo', async (data: { n: number }) => ({ n: data.n }), false);
    const client = new BusClientProxy({
      redisUrl,
      servicePublicKeys: parseServicePublicKeys(`${service}=${serviceKey.publicKey}`),
      prefix,
      defaultTimeoutMs: 4_000,
      name: 'close-test',
    });
    const redis = new IORedis(redisUrl);
    try {
      await new Promise<void>((resolve, reject) =>
        server.listen((err?: unknown) => (err ? reject(err as Error) : resolve())),
      );
      // The replica's pop is waiting in Redis.
      for (let i = 0; i < 100 && !/cmd=blmpop/.test(await blockingClientOf(redis, service)); i++)
        await sleep(20);
      expect(await blockingClientOf(redis, service)).toMatch(/cmd=blmpop/);

      const reply = client.call(service, 'test.echo', { n: 7 });
      // Redis has served the pop (the list is empty again) but its answer is still on the way.
      const list = requestListKey(prefix, service);
      for (let i = 0; i < 100 && (await redis.exists(list)) === 0; i++) await sleep(5);
      for (let i = 0; i < 100 && (await redis.llen(list)) > 0; i++) await sleep(5);
      expect(await redis.llen(list)).toBe(0);

      const closed = server.close();
      await expect(reply).resolves.toEqual({ n: 7 });
      await closed;
      expect(server.stats().handled).toBe(1);
    } finally {
      await client.close();
      redis.disconnect();
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });

  it('closes an idle server promptly, and leaves no connection of it in Redis', async () => {
    const prefix = uniquePrefix('bus-close');
    const name = `idle-${service}`;
    const server = new BusServer({
      redisUrl,
      keys: parseServicePrivateKeys(serviceKey.privateKey),
      prefix,
      service: name,
    });
    const redis = new IORedis(redisUrl);
    try {
      await new Promise<void>((resolve, reject) =>
        server.listen((err?: unknown) => (err ? reject(err as Error) : resolve())),
      );
      for (let i = 0; i < 100 && !/cmd=blmpop/.test(await blockingClientOf(redis, name)); i++)
        await sleep(20);
      const started = Date.now();
      await server.close();
      // Un-blocked (the test Redis' default user may), not waiting for the pop's timeout.
      expect(Date.now() - started).toBeLessThan(900);
      expect(await blockingClientOf(redis, name)).toBe('');
    } finally {
      redis.disconnect();
    }
  });
});

/** The CLIENT LIST line of a bus server's blocking connection ('' when it has none). */
async function blockingClientOf(redis: IORedis, service: string): Promise<string> {
  const list = (await redis.client('LIST')) as string;
  return list.split('\n').find((line) => line.includes(`name=bus-server:${service}:requests `)) ?? '';
}
