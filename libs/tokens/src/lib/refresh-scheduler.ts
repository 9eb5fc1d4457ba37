import { Logger } from '@nestjs/common';
import { JobProducer } from '@broker/bus';
import { RefreshScheduler, refreshAheadDelayMs } from './provider-access';

/** Refresh-ahead requests as delayed `token-refresh` jobs, one per written token set. */
export function jobRefreshScheduler(producer: JobProducer): RefreshScheduler {
  const logger = new Logger('RefreshScheduler');
  return (orgId, authorizationId, expiresAt, tokenKey) => {
    producer
      .enqueue('token-refresh', 'REFRESH_AUTHORIZATION', { orgId, authorizationId }, { jobId: `refresh-${tokenKey}`, delayMs: refreshAheadDelayMs(expiresAt) })
      .catch((err: Error) => logger.warn(`refresh of ${authorizationId} not scheduled: ${err.message}`));
  };
}
