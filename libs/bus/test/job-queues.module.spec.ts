import { Processor } from '@nestjs/bullmq';
import { INestApplicationContext, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { QUEUE_NAMES, QUEUE_SETTINGS } from '@broker/contracts';
import { testRedisUrl, uniquePrefix } from '@broker/testing';
import { JobHandlers, JobProducer, JobQueuesModule, QueueProcessor, processorOptions } from '../src';

const processed: string[] = [];
let onProcessed: () => void = () => undefined;

@Injectable()
@Processor('token-refresh', processorOptions('token-refresh'))
class RefreshProcessor extends QueueProcessor<'token-refresh'> {
  protected readonly queue = 'token-refresh' as const;
  protected readonly handlers: JobHandlers<'token-refresh'> = {
    REFRESH_AUTHORIZATION: async ({ authorizationId }) => {
      processed.push(authorizationId);
      onProcessed();
    },
    SWEEP_DUE_REFRESHES: async () => undefined,
  };
}

describe('job queues through @nestjs/bullmq', () => {
  let app: INestApplicationContext;

  beforeAll(async () => {
    @Module({
      imports: [JobQueuesModule.forRoot({ redisUrl: testRedisUrl(), prefix: uniquePrefix('nestjobs') })],
      providers: [RefreshProcessor],
    })
    class TestModule {}
    app = await NestFactory.createApplicationContext(TestModule, { logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('registers every queue with its retry policy from the settings table', () => {
    for (const name of QUEUE_NAMES) {
      const queue = app.get<Queue>(getQueueToken(name));
      expect(queue.name).toBe(name);
      expect(queue.defaultJobOptions.attempts).toBe(QUEUE_SETTINGS[name].attempts);
    }
  });

  it('delivers a typed job from the producer to the queue’s processor', async () => {
    const done = new Promise<void>((resolve) => (onProcessed = resolve));
    await app
      .get(JobProducer)
      .enqueue(
        'token-refresh',
        'REFRESH_AUTHORIZATION',
        { orgId: 'o1', authorizationId: 'auth-1' },
        { jobId: 'refresh-auth-1' },
      );
    await done;
    expect(processed).toEqual(['auth-1']);
  });
});
