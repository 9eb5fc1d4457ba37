import { Processor } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job } from 'bullmq';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import { JobPayload } from '@broker/contracts';
import { DeviceFlowService, devicePollJobId } from '@broker/tokens';

/**
 * POLL_DEVICE_AUTHORIZATION: one poll of the provider for a pending device authorization, then the
 * same job moves itself back to `delayed` for the (possibly slowed-down) interval, so no worker slot
 * waits between polls and the job id stays the record's. A job whose worker died is picked up again
 * by BullMQ (stall detection); a record that is no longer pending ends the job.
 */
@Injectable()
@Processor('device-poll', processorOptions('device-poll'))
export class DevicePollProcessor extends QueueProcessor<'device-poll'> {
  private readonly logger = new Logger('DevicePoll');
  protected readonly queue = 'device-poll' as const;
  protected readonly handlers: JobHandlers<'device-poll'> = {
    POLL_DEVICE_AUTHORIZATION: (payload, job, token) => this.poll(payload, job, token),
  };

  constructor(private readonly deviceFlow: DeviceFlowService) {
    super();
  }

  private async poll(
    { orgId, deviceAuthorizationId }: JobPayload<'device-poll', 'POLL_DEVICE_AUTHORIZATION'>,
    job: Job,
    token?: string,
  ): Promise<void> {
    // The poller of a record has that record's job id (a second job for it is refused by BullMQ);
    // any other job is not one the flow started. The record itself says when a poll is due.
    if (job.id !== devicePollJobId(deviceAuthorizationId)) {
      this.logger.warn(`ignored a POLL_DEVICE_AUTHORIZATION job (${job.id}) that is not the record's poller`);
      return;
    }
    const delayMs = await this.deviceFlow.poll(orgId, deviceAuthorizationId);
    if (delayMs === null) {
      this.logger.log(`device authorization ${deviceAuthorizationId}: polling ended`);
      return;
    }
    await job.moveToDelayed(Date.now() + delayMs, token);
    // Tells the BullMQ worker the job was moved (not completed, not failed, no attempt used).
    throw new DelayedError();
  }
}
