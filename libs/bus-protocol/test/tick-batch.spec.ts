import IORedis from 'ioredis';
import { testRedisUrl, uniquePrefix } from '@broker/testing';
import { TickBatch } from '../src';

describe('TickBatch (commands of one turn in one round trip)', () => {
  let redis: IORedis;
  beforeEach(() => {
    redis = new IORedis(testRedisUrl());
  });
  afterEach(() => redis.disconnect());

  it('sends one command alone, and the commands of one turn as one pipeline, each caller getting its own reply', async () => {
    const prefix = uniquePrefix('tick');
    const pipelines = jest.spyOn(redis, 'pipeline');
    const batch = new TickBatch(() => redis);
    expect(await batch.send('set', `${prefix}:a`, '1', 'NX')).toBe('OK');
    expect(pipelines).not.toHaveBeenCalled();

    // Two markers of the same id in one turn: in order, the second is refused.
    const replies = await Promise.all([
      batch.send('set', `${prefix}:b`, '1', 'PX', 5_000, 'NX'),
      batch.send('set', `${prefix}:b`, '1', 'PX', 5_000, 'NX'),
      batch.send('set', `${prefix}:a`, '1', 'NX'),
      batch.send('get', `${prefix}:b`),
    ]);
    expect(replies).toEqual(['OK', null, null, '1']);
    expect(pipelines).toHaveBeenCalledTimes(1);
  });

  it('rejects only the command that failed', async () => {
    const prefix = uniquePrefix('tick');
    const batch = new TickBatch(() => redis);
    const [ok, failed] = await Promise.allSettled([
      batch.send('set', `${prefix}:c`, 'v'),
      batch.send('incr', `${prefix}:c`),
    ]);
    expect(ok).toEqual({ status: 'fulfilled', value: 'OK' });
    expect(failed.status).toBe('rejected');
  });

  it('rejects everything when there is no connection', async () => {
    const batch = new TickBatch(() => undefined);
    await expect(batch.send('ping')).rejects.toThrow('bus connection closed');
  });
});
