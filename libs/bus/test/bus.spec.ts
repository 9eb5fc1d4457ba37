import { Controller, INestMicroservice, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import IORedis from 'ioredis';
import { z } from 'zod';
import { BusClientProxy, BusContext, BusException, BusRemoteError, BusServer, BusTimeoutError } from '../src';
import {
  generateServiceKey,
  parseServicePrivateKeys,
  parseServicePublicKeys,
  requestListKey,
  seenKey,
} from '@broker/bus-protocol';
import { sleep, testRedisUrl, uniquePrefix } from '@broker/testing';

const REPLICA = 'REPLICA';
const SERVICE = 'echo-service';
const SCHEMAS = {
  'test.echo': z.strictObject({ n: z.number(), from: z.string().optional() }),
  'test.not-found': z.strictObject({}),
  'test.invalid': z.strictObject({}),
  'test.crash': z.strictObject({}),
};

interface Handled {
  replica: number;
  requestId: string;
}

function buildModule(replica: number, handled: Handled[]) {
  @Controller()
  class EchoController {
    constructor(@Inject(REPLICA) private readonly replicaNo: number) {}

    @MessagePattern('test.echo')
    echo(@Payload() data: { n: number; from?: string }, @Ctx() ctx: BusContext) {
      handled.push({ replica: this.replicaNo, requestId: ctx.getRequestId() });
      return { n: data.n, from: data.from, replica: this.replicaNo, auth: ctx.getAuth() ?? null };
    }

    @MessagePattern('test.not-found')
    notFound(): never {
      throw new BusException('NOT_FOUND', 'no such thing');
    }

    @MessagePattern('test.invalid')
    invalid(): never {
      throw new BusException('UNPROCESSABLE', 'invalid body', [{ name: 'name', message: 'is required' }]);
    }

    @MessagePattern('test.crash')
    crash(): never {
      throw new Error('database password is hunter2');
    }
  }

  @Module({ controllers: [EchoController], providers: [{ provide: REPLICA, useValue: replica }] })
  class EchoModule {}
  return EchoModule;
}

describe('bus transport (Redis request lists, pub/sub replies)', () => {
  const redisUrl = testRedisUrl();
  const serviceKey = generateServiceKey('s1');
  const keys = parseServicePrivateKeys(serviceKey.privateKey);
  const publicKeys = parseServicePublicKeys(`${SERVICE}=${serviceKey.publicKey}`);
  let servers: BusServer[];
  let prefix: string;
  let replicas: INestMicroservice[];
  let clients: BusClientProxy[];
  let handled: Handled[];

  async function startReplica(n: number): Promise<INestMicroservice> {
    const app = await NestFactory.createMicroservice(buildModule(n, handled), {
      strategy: server(),
      logger: false,
    });
    await app.listen();
    replicas.push(app);
    return app;
  }

  function server(): BusServer {
    const created = new BusServer({ redisUrl, keys, prefix, service: SERVICE, requestSchemas: SCHEMAS });
    servers.push(created);
    return created;
  }

  function newClient(timeoutMs = 5_000, name = 'test'): BusClientProxy {
    const client = new BusClientProxy({
      redisUrl,
      servicePublicKeys: publicKeys,
      prefix,
      defaultTimeoutMs: timeoutMs,
      name,
    });
    clients.push(client);
    return client;
  }

  beforeEach(() => {
    prefix = uniquePrefix('bus');
    replicas = [];
    servers = [];
    clients = [];
    handled = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(replicas.map((r) => r.close()));
  });

  it('with 3 replicas, handles each of 300 requests exactly once and answers each caller', async () => {
    await Promise.all([0, 1, 2].map((n) => startReplica(n)));
    const client = newClient();
    const replies = await Promise.all(
      Array.from(
        { length: 300 },
        (_, n) => client.call(SERVICE, 'test.echo', { n }) as Promise<{ n: number; replica: number }>,
      ),
    );
    expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 300 }, (_, n) => n));
    expect(handled).toHaveLength(300);
    expect(new Set(handled.map((h) => h.requestId)).size).toBe(300);
    // Work is shared: more than one replica took requests.
    expect(new Set(replies.map((r) => r.replica)).size).toBeGreaterThan(1);
    expect(client.stats()).toMatchObject({ sent: 300, replied: 300, timedOut: 0, unmatched: 0 });
  });

  it('answers a request sent while no replica is up once one starts, within its timeout', async () => {
    const client = newClient(10_000);
    const started = Date.now();
    const pending = client.call(SERVICE, 'test.echo', { n: 7 });
    await sleep(1_000);
    expect(handled).toHaveLength(0);
    await startReplica(0);
    await expect(pending).resolves.toMatchObject({ n: 7, replica: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails with a typed timeout error, not a hang, when nobody answers', async () => {
    const client = newClient();
    const started = Date.now();
    const err = await client
      .call(SERVICE, 'test.echo', { n: 1 }, { timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusTimeoutError);
    expect((err as BusTimeoutError).code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('drops a request whose caller has given up instead of handling it late', async () => {
    const client = newClient();
    await client.call(SERVICE, 'test.echo', { n: 1 }, { timeoutMs: 200 }).catch(() => undefined);
    await startReplica(0);
    await expect(client.call(SERVICE, 'test.echo', { n: 2 })).resolves.toMatchObject({ n: 2 });
    expect(handled).toHaveLength(1);
  });

  it('never delivers one client’s reply to another client', async () => {
    await Promise.all([0, 1].map((n) => startReplica(n)));
    const a = newClient();
    const b = newClient();
    const [fromA, fromB] = await Promise.all([
      Promise.all(Array.from({ length: 100 }, (_, n) => a.call(SERVICE, 'test.echo', { n, from: 'a' }))),
      Promise.all(Array.from({ length: 100 }, (_, n) => b.call(SERVICE, 'test.echo', { n, from: 'b' }))),
    ]);
    expect(fromA.every((r) => (r as { from: string }).from === 'a')).toBe(true);
    expect(fromB.every((r) => (r as { from: string }).from === 'b')).toBe(true);
    // Neither client's channel carried a single reply meant for the other.
    expect(a.stats()).toMatchObject({ replied: 100, unmatched: 0 });
    expect(b.stats()).toMatchObject({ replied: 100, unmatched: 0 });
  });

  it('delivers a handler’s domain error as a typed error with its code and fields', async () => {
    await startReplica(0);
    const client = newClient();
    const notFound = await client.call(SERVICE, 'test.not-found', {}).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(BusRemoteError);
    expect(notFound).toMatchObject({
      code: 'NOT_FOUND',
      message: 'no such thing',
      pattern: 'test.not-found',
    });

    const invalid = await client.call(SERVICE, 'test.invalid', {}).catch((e: unknown) => e);
    expect(invalid).toMatchObject({
      code: 'UNPROCESSABLE',
      fields: [{ name: 'name', message: 'is required' }],
    });
  });

  it('turns an unexpected handler failure into INTERNAL without leaking its message', async () => {
    await startReplica(0);
    const client = newClient();
    const err = await client.call(SERVICE, 'test.crash', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusRemoteError);
    expect((err as BusRemoteError).code).toBe('INTERNAL');
    expect((err as BusRemoteError).message).not.toContain('hunter2');
  });

  it('answers an unknown pattern with NO_HANDLER', async () => {
    await startReplica(0);
    const err = await newClient()
      .call(SERVICE, 'test.nobody', {})
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NO_HANDLER' });
  });

  it('passes the caller’s token to the handler but keeps payload and token sealed in Redis', async () => {
    const client = newClient(10_000);
    const canary = `canary-${uniquePrefix('x')}`;
    const pending = client.call(SERVICE, 'test.echo', { n: 1, from: canary }, { auth: `Bearer ${canary}` });
    await sleep(300);
    // The request is waiting in Redis (no replica yet): nothing stored may show the payload or the token.
    const redis = new IORedis(redisUrl);
    try {
      const keys = await redis.keys(`${prefix}:*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key).not.toContain(canary);
        const type = await redis.type(key);
        const dump =
          type === 'hash'
            ? JSON.stringify(await redis.hgetall(key))
            : type === 'string'
              ? String(await redis.get(key))
              : type === 'list'
                ? JSON.stringify(await redis.lrange(key, 0, -1))
                : type === 'zset'
                  ? JSON.stringify(await redis.zrange(key, 0, -1))
                  : type === 'stream'
                    ? JSON.stringify(await redis.xrange(key, '-', '+'))
                    : '';
        expect(dump).not.toContain(canary);
      }
    } finally {
      redis.disconnect();
    }
    await startReplica(0);
    await expect(pending).resolves.toMatchObject({ from: canary, auth: `Bearer ${canary}` });
  });

  it('refuses requests sealed to another key, and says so in its counters', async () => {
    await startReplica(0);
    const other = parseServicePublicKeys(`${SERVICE}=${generateServiceKey('s1').publicKey}`);
    const stranger = new BusClientProxy({
      redisUrl,
      servicePublicKeys: other,
      prefix,
      defaultTimeoutMs: 500,
    });
    clients.push(stranger);
    await expect(stranger.call(SERVICE, 'test.echo', { n: 1 })).rejects.toBeInstanceOf(BusTimeoutError);
    expect(handled).toHaveLength(0);
    expect(servers[0].stats().dropped.unopenable).toBe(1);
  });

  it('answers a payload that does not match its schema with BAD_REQUEST, before any handler runs', async () => {
    await startReplica(0);
    const err = await newClient()
      .call(SERVICE, 'test.echo', { n: 'one', extra: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusRemoteError);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    expect((err as BusRemoteError).fields?.map((f) => f.name)).toEqual(expect.arrayContaining(['n']));
    expect(handled).toHaveLength(0);
  });

  it('answers BAD_REQUEST, not a timeout, when the error would name more hostile input than a reply may carry', async () => {
    await startReplica(0);
    // Unknown field names of 2 000 and 900 characters: the error lists them, longer than a caller's reply schema takes.
    const payload = { n: 1, ['k'.repeat(2_000)]: 1, ['j'.repeat(900)]: 2 };
    const client = newClient(3_000);
    const err = await client.call(SERVICE, 'test.echo', payload).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusRemoteError);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    const fields = (err as BusRemoteError).fields ?? [];
    expect(fields.length).toBeGreaterThan(0);
    for (const f of fields) expect(f.message.length).toBeLessThanOrEqual(1024);
    expect(client.stats()).toMatchObject({ rejected: 0, replied: 1 });
  });

  describe('attacked through Redis', () => {
    /** Captures the next request pushed on the service's list (as MONITOR would show it), keeping it out of reach of replicas. */
    async function capture(
      client: BusClientProxy,
      data: unknown,
    ): Promise<{ raw: string; pending: Promise<unknown> }> {
      const pending = client.call(SERVICE, 'test.echo', data, { timeoutMs: 4_000 });
      const redis = new IORedis(redisUrl);
      try {
        const popped = await redis.blpop(requestListKey(prefix, SERVICE), 2);
        if (!popped) throw new Error('no request was pushed');
        return { raw: popped[1], pending };
      } finally {
        redis.disconnect();
      }
    }

    it('acts on a request once: the same bytes pushed again are dropped as a replay', async () => {
      const client = newClient();
      const { raw, pending } = await capture(client, { n: 42 });
      const redis = new IORedis(redisUrl);
      try {
        await redis.rpush(requestListKey(prefix, SERVICE), raw, raw, raw);
        await startReplica(0);
        await expect(pending).resolves.toMatchObject({ n: 42 });
        await sleep(300);
        expect(handled).toHaveLength(1);
        expect(servers[0].stats().dropped.replayed).toBe(2);
        // The marker names the request by a hash only.
        const id = (JSON.parse(raw) as { i: string }).i;
        expect(await redis.exists(seenKey(prefix, SERVICE, id))).toBe(1);
        expect((await redis.keys(`${prefix}:bus:seen:*`)).join()).not.toContain(id);
      } finally {
        redis.disconnect();
      }
    });

    it('acts once on copies of requests across two replicas: copies in the batch the first one pops, and copies pushed later to either', async () => {
      const client = newClient();
      const a = await capture(client, { n: 1 });
      const b = await capture(client, { n: 2 });
      const redis = new IORedis(redisUrl);
      const list = requestListKey(prefix, SERVICE);
      try {
        // One replica pops all of these in one batch: its markers go in one round trip, in order.
        await redis.rpush(list, a.raw, a.raw, b.raw, a.raw, b.raw);
        await startReplica(0);
        await expect(Promise.all([a.pending, b.pending])).resolves.toMatchObject([{ n: 1 }, { n: 2 }]);
        await sleep(200);
        expect(servers[0].stats().dropped.replayed).toBe(3);
        // A second replica that never saw them refuses later copies too (the markers are in Redis).
        await replicas.shift()?.close();
        await startReplica(1);
        await redis.rpush(list, b.raw, a.raw);
        await sleep(300);
        // With both replicas up, copies pushed one at a time are refused by whichever pops them.
        await startReplica(2);
        for (let i = 0; i < 6; i++) await redis.rpush(list, i % 2 ? a.raw : b.raw);
        await sleep(500);
        expect(handled.map((h) => h.requestId).sort()).toEqual(
          [(JSON.parse(a.raw) as { i: string }).i, (JSON.parse(b.raw) as { i: string }).i].sort(),
        );
        expect(servers.reduce((sum, s) => sum + s.stats().dropped.replayed, 0)).toBe(3 + 2 + 6);
        expect(servers[1].stats().dropped.replayed).toBeGreaterThanOrEqual(2);
        expect(await redis.llen(list)).toBe(0);
      } finally {
        redis.disconnect();
      }
    });

    it('does not answer a copy whose reply channel, id, pattern or deadline was changed', async () => {
      const client = newClient();
      const { raw, pending } = await capture(client, { n: 7 });
      const envelope = JSON.parse(raw) as Record<string, unknown>;
      const attacker = new IORedis(redisUrl);
      const listener = new IORedis(redisUrl);
      const heard: string[] = [];
      try {
        await listener.psubscribe(`${prefix}:bus:reply:*`);
        listener.on('pmessage', (_p: string, channel: string) => heard.push(channel));
        const mine = `${prefix}:bus:reply:attacker:x`;
        const copies = [
          { r: mine },
          { i: `${String(envelope['i'])}x`, r: mine },
          { p: 'test.crash', r: mine },
          { d: Number(envelope['d']) + 1, r: mine },
        ];
        await attacker.rpush(
          requestListKey(prefix, SERVICE),
          ...copies.map((c) => JSON.stringify({ ...envelope, ...c })),
          raw,
        );
        await startReplica(0);
        await expect(pending).resolves.toMatchObject({ n: 7 });
        await sleep(300);
        expect(handled).toHaveLength(1);
        expect(servers[0].stats().dropped.unopenable).toBe(4);
        expect(heard.filter((c) => c === mine)).toEqual([]);
      } finally {
        attacker.disconnect();
        listener.disconnect();
      }
    });

    it('ignores a forged reply on the caller’s channel and takes the genuine one', async () => {
      const client = newClient();
      const { raw, pending } = await capture(client, { n: 9 });
      const id = (JSON.parse(raw) as { i: string }).i;
      const attacker = new IORedis(redisUrl);
      try {
        // Any key the attacker can make: a reply sealed with it does not open with the request's.
        const forged = JSON.stringify({ i: id, s: Buffer.alloc(64, 7).toString('base64url') });
        await attacker.publish(client.replyChannel, forged);
        await attacker.publish(client.replyChannel, JSON.stringify({ i: id, ok: true, data: { n: 666 } }));
        await attacker.rpush(requestListKey(prefix, SERVICE), raw);
        await startReplica(0);
        await expect(pending).resolves.toMatchObject({ n: 9, replica: 0 });
        expect(client.stats()).toMatchObject({ rejected: 1, replied: 1 });
      } finally {
        attacker.disconnect();
      }
    });

    it('drops a request whose deadline lies too far ahead (it would have to be remembered that long)', async () => {
      const client = newClient(3_600_000);
      const pending = client.call(SERVICE, 'test.echo', { n: 1 });
      pending.catch(() => undefined);
      await startReplica(0);
      await sleep(500);
      expect(handled).toHaveLength(0);
      expect(servers[0].stats().dropped['bad-deadline']).toBe(1);
      await client.close();
    });
  });
});
