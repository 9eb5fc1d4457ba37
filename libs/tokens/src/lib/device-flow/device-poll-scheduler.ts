import { JobProducer } from '@broker/bus';
import { DevicePollScheduler } from './device-flow.service';

/** The job id of a device authorization's poller: one per record, so a second enqueue is a no-op. */
export function devicePollJobId(deviceAuthorizationId: string): string {
  return `device-${deviceAuthorizationId}`;
}

/** Device pollers as `device-poll` jobs (payload: ids only). */
export function jobDevicePollScheduler(producer: JobProducer): DevicePollScheduler {
  return async (orgId, deviceAuthorizationId, delayMs) => {
    await producer.enqueue(
      'device-poll',
      'POLL_DEVICE_AUTHORIZATION',
      { orgId, deviceAuthorizationId },
      { jobId: devicePollJobId(deviceAuthorizationId), delayMs },
    );
  };
}
