import IORedis from 'ioredis';
import { z } from 'zod';
import { BusClientProxy, BusServer } from '../src';
import { generateServiceKey, parseServicePrivateKeys, parseServicePublicKeys } from '@broker/bus-protocol';
import { sleep, testRedisUrl, uniquePrefix } from '@broker/testing';

interface Seen {
  source: string;
  args: string[];
}

describe('replay markers sent with the next pop', () => {
  const redisUrl = testRedisUrl();
  const service = `markers-${Math.random().toString(36).slice(2, 10)}`;
  const serviceKey = generateServiceKey('s1');

  it('sets a request’s marker on the blocking connection, written with the pop that follows, before its handler runs', async () => {
    const prefix = uniquePrefix('bus-markers');
    const order: string[] = [];
    const server = new BusServer({
      redisUrl,
      keys: parseServicePrivateKeys(serviceKey.privateKey),
      prefix,
      service,
      requestSchemas: { 'test.echo': z.strictObject({ n: z.number() }) },
    });
    const admin = new IORedis(redisUrl);
    server.addHandler(
      'test.echo',
      async (data: { n: number }) => {
        // The marker exists when the handler runs.
        const markers = await admin.keys(`${prefix}:bus:seen:*`);
        order.push(`handled ${data.n} with ${markers.length} markers`);
        return { n: data.n };
      },
      false,
    );
    const client = new BusClientProxy({
      redisUrl,
      servicePublicKeys: parseServicePublicKeys(`${service}=${serviceKey.publicKey}`),
      prefix,
      defaultTimeoutMs: 4_000,
      name: 'markers-test',
    });
    const monitor = new IORedis(redisUrl);
    const seen: Seen[] = [];
    try {
      await new Promise<void>((resolve, reject) =>
        server.listen((err?: unknown) => (err ? reject(err as Error) : resolve())),
      );
      // A first request sets up the caller's session (its marker may take the other connection).
      await expect(client.call(service, 'test.echo', { n: 1 })).resolves.toEqual({ n: 1 });
      const watching = await monitor.monitor();
      watching.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, args }));
      await sleep(50);
      for (const n of [2, 3, 4])
        await expect(client.call(service, 'test.echo', { n })).resolves.toEqual({ n });
      await sleep(50);
      watching.disconnect();

      const addresses = connectionsOf((await admin.client('LIST')) as string, service);
      const marks = seen.filter((s) => s.args[0].toLowerCase() === 'set' && s.args[1].includes(':bus:seen:'));
      expect(marks).toHaveLength(3);
      for (const mark of marks) expect(mark.source).toBe(addresses.requests);
      // Each marker is followed on its connection by the next pop (the same write).
      for (const mark of marks) {
        const next = seen.slice(seen.indexOf(mark) + 1).find((s) => s.source === mark.source);
        expect(next?.args[0].toLowerCase()).toBe('blmpop');
      }
      expect(order.slice(1)).toEqual([
        'handled 2 with 2 markers',
        'handled 3 with 3 markers',
        'handled 4 with 4 markers',
      ]);
    } finally {
      await client.close();
      await server.close();
      monitor.disconnect();
      admin.disconnect();
    }
  });
});

/** The addresses of a bus server's two connections, from CLIENT LIST. */
function connectionsOf(list: string, service: string): { requests?: string; publish?: string } {
  const addr = (suffix: string) =>
    list
      .split('\n')
      .find((line) => line.includes(`name=bus-server:${service}:${suffix} `))
      ?.match(/ addr=(\S+)/)?.[1];
  return { requests: addr('requests'), publish: addr('publish') };
}
