import { Logger } from '@nestjs/common';
import { JobProducer } from '@broker/bus';
import { RefreshScheduler, refreshAheadDelayMs } from './provider-access';

/** Refresh-ahead requests as delayed `token-refresh` jobs, one per (authorization, generation). */
export function jobRefreshScheduler(producer: JobProducer): RefreshScheduler {
  const logger = new Logger('RefreshScheduler');
  return (orgId, authorizationId, expiresAt, generation) => {
    producer
      .enqueue('token-refresh', 'REFRESH_AUTHORIZATION', { orgId, authorizationId }, { jobId: `refresh-${authorizationId}-${generation}`, delayMs: refreshAheadDelayMs(expiresAt) })
      .catch((err: Error) => logger.warn(`refresh of ${authorizationId} not scheduled: ${err.message}`));
  };
}
