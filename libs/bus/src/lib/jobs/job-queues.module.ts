import { BullModule, WorkerHost, getQueueToken } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, DynamicModule, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, type Job, type Queue } from 'bullmq';
import { QUEUE_NAMES, QueueName } from '@broker/contracts';
import { JobHandlers, dispatchJob } from './job-handlers';
import { defaultJobOptions } from './job-options';
import { JobProducer } from './job-producer';
import { openJobConnectionsWithServiceFactory } from './job-connections';
import { reportQueueErrors } from '../redis-connection';

export interface JobQueuesOptions {
  redisUrl: string;
  /** Redis key prefix of the queues (BullMQ's own default is 'bull'). */
  prefix: string;
}

/**
 * Delay before reconnect attempt `times` to a Redis that went away: 100 ms, 200 ms … at most 1 s.
 * BullMQ's default grows as e^times up to 20 s, so after a 2 s Redis restart its queues and
 * workers stayed disconnected for 7–20 s (jobs paused), and a worker asked to stop meanwhile
 * waited for that reconnect before it could close.
 */
export function reconnectDelayMs(times: number): number {
  return Math.min(1_000, 100 * times);
}

/**
 * Registers every background queue of the contracts with @nestjs/bullmq, each with its retry and
 * retention policy from the settings table, and provides the typed JobProducer.
 */
@Module({})
export class JobQueuesModule {
  static forRoot(options: JobQueuesOptions): DynamicModule {
    openJobConnectionsWithServiceFactory();
    return {
      module: JobQueuesModule,
      global: true,
      imports: [
        // Connection options, not an instance: BullMQ then owns its connections and closes them on shutdown.
        BullModule.forRoot({
          connection: {
            url: options.redisUrl,
            connectionName: 'jobs',
            maxRetriesPerRequest: null,
            retryStrategy: reconnectDelayMs,
          },
          prefix: options.prefix,
        }),
        BullModule.registerQueue(
          ...QUEUE_NAMES.map((name) => ({ name, defaultJobOptions: defaultJobOptions(name) })),
        ),
      ],
      providers: [
        {
          provide: JobProducer,
          inject: QUEUE_NAMES.map((name) => getQueueToken(name)),
          useFactory: (...queues: Queue[]) =>
            new JobProducer(
              Object.fromEntries(QUEUE_NAMES.map((name, i) => [name, queues[i]])) as Record<QueueName, Queue>,
            ),
        },
      ],
      exports: [JobProducer, BullModule],
    };
  }
}

/**
 * Base of a queue's processor: declare `@Processor(queue, processorOptions(queue))` on the subclass
 * and give one handler per job name of that queue.
 */
export abstract class QueueProcessor<Q extends QueueName>
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  protected abstract readonly queue: Q;
  protected abstract readonly handlers: JobHandlers<Q>;

  // Subclasses may extend this with async start-up work (Nest awaits a returned promise).
  onApplicationBootstrap(): void | Promise<void> {
    reportQueueErrors(this.worker, `worker ${this.queue}`);
  }

  /**
   * Stops fetching and waits for the running jobs before any `onApplicationShutdown` hook runs.
   * Nest runs those hooks side by side: @nestjs/bullmq closed this worker while the queues (a
   * retry's enqueue), HTTP agents and pools the running jobs still used were closing too, so a job
   * in flight at SIGTERM failed with "Connection is closed." and its follow-up was lost.
   * Subclasses that override this call `super.beforeApplicationShutdown()`.
   */
  async beforeApplicationShutdown(): Promise<void> {
    let worker: WorkerHost['worker'] | undefined;
    try {
      worker = this.worker;
    } catch {
      return; // never registered (manual registration off): nothing runs
    }
    await worker.close();
  }

  private holdCheck?: () => boolean;

  /**
   * While `check()` answers true (a dependency of the jobs is down and the worker is paused), a job
   * this worker was already waiting for when it paused is put back, delayed by a second without
   * spending an attempt, instead of being run to fail.
   */
  holdWhile(check: () => boolean): void {
    this.holdCheck = check;
  }

  async process(job: Job, token?: string): Promise<unknown> {
    if (token && this.holdCheck?.()) {
      await job.moveToDelayed(Date.now() + 1_000, token);
      throw new DelayedError();
    }
    return dispatchJob(this.queue, this.handlers, job, token);
  }
}
