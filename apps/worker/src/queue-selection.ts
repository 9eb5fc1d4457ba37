import { Inject, Injectable, Logger, OnApplicationBootstrap, Provider, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { WorkerHost } from '@nestjs/bullmq';
import { QueueName } from '@broker/contracts';
import {
  SERVICE_CONFIG,
  ServiceConfig,
  assertQueueProcessors,
  type QueueConsumerView,
} from '@broker/service-runtime';
import { DevicePollProcessor } from './device-poll.processor';
import { DevicePollersSweeper } from './housekeeping/device-pollers.sweeper';
import { HousekeepingProcessor } from './housekeeping/housekeeping.processor';
import { KeyRotationTrigger } from './housekeeping/key-rotation-trigger';
import { OpenJobsSweeper } from './housekeeping/open-jobs.sweeper';
import { SetupsSweeper } from './housekeeping/setups.sweeper';
import { ConsentStatesSweeper, RefreshCandidatesSweeper } from './housekeeping/token-leftovers.sweeper';
import { KeyRotationProcessor } from './key-rotation.processor';
import { ProviderDeletionProcessor } from './provider-deletion.processor';
import { StatsProcessor } from './stats.processor';
import { TokenRefreshProcessor } from './token-refresh.processor';
import { WebhookDeliveryProcessor } from './webhook-delivery.processor';
import { WebhookEventRecorder } from './webhook-event-recorder';
import {
  JobDispatch,
  KeyRotationWorkflow,
  ProviderDeletionWorkflow,
  UpstreamRevoker,
} from '@broker/workflows';

/** The processor of each queue (total: a new queue must be placed here). */
const PROCESSOR_OF_QUEUE: Record<QueueName, Type<WorkerHost>> = {
  'token-refresh': TokenRefreshProcessor,
  'provider-deletion': ProviderDeletionProcessor,
  stats: StatsProcessor,
  'key-rotation': KeyRotationProcessor,
  'device-poll': DevicePollProcessor,
  'setup-expiry': HousekeepingProcessor,
  'webhook-delivery': WebhookDeliveryProcessor,
};

/** Where `@Processor(name)` keeps its options (@nestjs/bullmq's PROCESSOR_METADATA, not exported by its index). */
const PROCESSOR_METADATA = 'bullmq:processor_metadata';

/**
 * What the start-up check sees of each consumed queue (`has`: whether the module holds an instance).
 * `processorOf` is the placement table unless a test replaces it.
 */
export function consumerViews(
  queues: readonly QueueName[],
  has: (processor: Type<WorkerHost>) => boolean,
  processorOf: (queue: QueueName) => Type<WorkerHost> | null = (queue) => PROCESSOR_OF_QUEUE[queue],
): QueueConsumerView[] {
  return queues.map((queue) => {
    const processor = processorOf(queue);
    const meta: { name?: string } | undefined = processor
      ? Reflect.getMetadata(PROCESSOR_METADATA, processor)
      : undefined;
    return { queue, processor, decoratedQueue: meta?.name, registered: !!processor && has(processor) };
  });
}

/**
 * What else runs next to a queue's processor: the workflows the thin processors call
 * (`libs/workflows`), the housekeeping sweepers with their queue, the key rotation check at
 * start-up with the rotation queue (both queue recorded jobs through JobDispatch), the event
 * listener that records webhook deliveries with the webhook queue.
 */
const COMPANIONS_OF_QUEUE: Partial<Record<QueueName, Type<unknown>[]>> = {
  'setup-expiry': [
    SetupsSweeper,
    RefreshCandidatesSweeper,
    ConsentStatesSweeper,
    DevicePollersSweeper,
    OpenJobsSweeper,
    JobDispatch,
  ],
  'provider-deletion': [ProviderDeletionWorkflow, UpstreamRevoker],
  'key-rotation': [KeyRotationWorkflow, KeyRotationTrigger, JobDispatch],
  'webhook-delivery': [WebhookEventRecorder],
};

/**
 * The providers that consume `queues` (from `WORKER_QUEUES`): a BullMQ worker exists only for a
 * processor registered here, so a worker process started with one group never takes another
 * group's jobs. Every queue stays registered for producing (JobQueuesModule).
 */
export function queueConsumers(queues: readonly QueueName[]): Provider[] {
  const out = new Set<Type<unknown>>();
  for (const queue of queues) {
    const processor = PROCESSOR_OF_QUEUE[queue];
    if (processor) out.add(processor);
    for (const companion of COMPANIONS_OF_QUEUE[queue] ?? []) out.add(companion);
  }
  return [...out, QueueConcurrency];
}

/** The processor classes of the queues this process consumes. */
export function consumedProcessors(queues: readonly QueueName[]): Type<WorkerHost>[] {
  return [...new Set(queues.map((q) => PROCESSOR_OF_QUEUE[q]))];
}

/**
 * `WORKER_CONCURRENCY`: sets the concurrency of this process's workers where the setting names
 * their queue or group (the @Processor decorators carry the contracts' defaults, fixed at import).
 */
@Injectable()
export class QueueConcurrency implements OnApplicationBootstrap {
  private readonly logger = new Logger('QueueConcurrency');

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Start-up check: every queue this process is configured to consume has its processor (fails the boot).
    assertQueueProcessors(
      consumerViews(this.config.worker.queues, (processor) => {
        try {
          return !!this.moduleRef.get(processor, { strict: false });
        } catch {
          return false;
        }
      }),
    );
    const consumed: string[] = [];
    for (const queue of this.config.worker.queues) {
      const processor = PROCESSOR_OF_QUEUE[queue];
      if (!processor) continue;
      const worker = this.moduleRef.get(processor, { strict: false }).worker;
      const concurrency = this.config.worker.concurrency[queue];
      if (concurrency !== undefined) worker.concurrency = concurrency;
      consumed.push(`${queue} (concurrency ${worker.concurrency})`);
    }
    // What the worker really runs, read back from BullMQ: the line operators check after a change.
    this.logger.log(`consuming queues: ${consumed.join(', ')}`);
  }
}
