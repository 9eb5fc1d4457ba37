import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobProducer } from '@broker/bus';
import { DeviceFlowService, devicePollJobId } from '@broker/tokens';
import type { Sweeper } from './sweeper';

/** A pending device authorization untouched this long is checked against its poller job. */
const IDLE_AFTER_MS = 30_000;

/**
 * Device authorizations: overdue ones expired, old finished ones deleted; a pending one whose
 * poller job is gone (flushed Redis) gets a new one, one whose poller failed for good is failed.
 */
@Injectable()
export class DevicePollersSweeper implements Sweeper {
  private readonly logger = new Logger('DevicePollersSweeper');

  constructor(
    private readonly deviceFlow: DeviceFlowService,
    private readonly producer: JobProducer,
    @InjectQueue('device-poll') private readonly devicePollQueue: Queue,
  ) {}

  async sweep(): Promise<void> {
    await this.deviceFlow.sweep();
    for (const record of await this.deviceFlow.stalled(IDLE_AFTER_MS)) {
      const queued = await this.devicePollQueue.getJob(devicePollJobId(record.id));
      const state = queued ? await queued.getState() : 'missing';
      if (state === 'failed') {
        await this.deviceFlow.fail(record.orgId, record.id, 'the poller failed');
      } else if (state === 'missing' || state === 'unknown' || state === 'completed') {
        if (queued) await queued.remove();
        await this.producer.enqueue(
          'device-poll',
          'POLL_DEVICE_AUTHORIZATION',
          { orgId: record.orgId, deviceAuthorizationId: record.id },
          { jobId: devicePollJobId(record.id) },
        );
        this.logger.warn(`device authorization ${record.id} had no poller: started again`);
      }
    }
  }
}
