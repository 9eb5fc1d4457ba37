import { z } from 'zod';
import { BusClientProxy, BusContext, BusServer, PhaseStamps, monotonicMs } from '../src';
import { generateServiceKey, parseServicePrivateKeys, parseServicePublicKeys } from '@broker/bus-protocol';
import { testRedisUrl, uniquePrefix } from '@broker/testing';

// BusServerOptions.stampPhases: the latency breakdown of `npm run bench:bus` reads these stamps, so
// they must be in phase order, inside the call's own window, and absent unless asked for.
describe('bus server phase stamps (stampPhases)', () => {
  const redisUrl = testRedisUrl();
  const serviceKey = generateServiceKey('s1');
  let server: BusServer | undefined;
  let client: BusClientProxy | undefined;

  afterEach(async () => {
    await client?.close();
    await server?.close();
    client = server = undefined;
  });

  async function start(stampPhases: boolean | undefined): Promise<BusClientProxy> {
    const prefix = uniquePrefix('stamps');
    server = new BusServer({
      redisUrl,
      keys: parseServicePrivateKeys(serviceKey.privateKey),
      prefix,
      service: 'stamped',
      requestSchemas: { 'test.stamps': z.strictObject({}) },
      ...(stampPhases === undefined ? {} : { stampPhases }),
    });
    server.addHandler(
      'test.stamps',
      async (_data: unknown, ctx: BusContext) => ({
        stamps: ctx.getStamps() ?? null,
        handler: monotonicMs(),
      }),
      false,
    );
    await new Promise<void>((resolve, reject) =>
      server?.listen((err?: unknown) => (err ? reject(err) : resolve())),
    );
    client = new BusClientProxy({
      redisUrl,
      prefix,
      servicePublicKeys: parseServicePublicKeys(`stamped=${serviceKey.publicKey}`),
      defaultTimeoutMs: 10_000,
    });
    await client.connect();
    return client;
  }

  it('records popped ≤ opened ≤ marked ≤ handler, all within the call, when asked', async () => {
    const c = await start(true);
    for (let i = 0; i < 5; i++) {
      const before = monotonicMs();
      const r = (await c.call('stamped', 'test.stamps', {})) as { stamps: PhaseStamps; handler: number };
      const after = monotonicMs();
      expect(r.stamps).not.toBeNull();
      expect(before).toBeLessThanOrEqual(r.stamps.popped);
      expect(r.stamps.popped).toBeLessThanOrEqual(r.stamps.opened);
      expect(r.stamps.opened).toBeLessThanOrEqual(r.stamps.marked);
      expect(r.stamps.marked).toBeLessThanOrEqual(r.handler);
      expect(r.handler).toBeLessThanOrEqual(after);
    }
  });

  it.each([undefined, false])('records nothing by default (stampPhases: %s)', async (stampPhases) => {
    const c = await start(stampPhases);
    const r = (await c.call('stamped', 'test.stamps', {})) as { stamps: PhaseStamps | null };
    expect(r.stamps).toBeNull();
  });
});
