import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobProducer } from '@broker/bus';
import { JobEntity, JobsService, ProvidersService, SecureConfigsService } from '@broker/registry';
import { AuthorizationsService, ConsentService, DeviceFlowService, TokenPath, devicePollJobId } from '@broker/tokens';

const SWEEP_EVERY_MS = 15_000;
const IDLE_AFTER_MS = 30_000;

/**
 * Keeps the job records (PostgreSQL) and the queues (Redis) in step:
 * - an open job whose queue entry is missing (lost enqueue, flushed Redis) is queued again under its
 *   own id, so it can never run twice at once;
 * - one whose queue entry failed for good is marked ERROR (and its provider `deletion_failed`);
 * - refresh candidates left by a crash are adopted or discarded, expired consent states removed;
 * - device authorizations: overdue ones expired, old finished ones deleted, and a pending one whose
 *   poller job is gone (flushed Redis) gets a new one, one whose poller failed for good is failed;
 * - at start-up, when secrets are wrapped by a key that is no longer active, a ROTATE_KEYS job is
 *   created (one at a time, under an advisory lock) so rotation needs nothing but a config change.
 */
@Injectable()
export class JobReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('JobReconciler');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly jobs: JobsService,
    private readonly providers: ProvidersService,
    private readonly secrets: SecureConfigsService,
    private readonly authorizations: AuthorizationsService,
    private readonly tokens: TokenPath,
    private readonly consent: ConsentService,
    private readonly deviceFlow: DeviceFlowService,
    private readonly producer: JobProducer,
    @InjectQueue('provider-deletion') private readonly deletionQueue: Queue,
    @InjectQueue('stats') private readonly statsQueue: Queue,
    @InjectQueue('key-rotation') private readonly rotationQueue: Queue,
    @InjectQueue('device-poll') private readonly devicePollQueue: Queue,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.scheduleRotationIfDue().catch((err: Error) => this.logger.warn(`rotation check failed: ${err.message}`));
    this.timer = setInterval(() => void this.sweepOnce(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async reconcileDevicePollers(): Promise<void> {
    await this.deviceFlow.sweep();
    for (const record of await this.deviceFlow.stalled(IDLE_AFTER_MS)) {
      const queued = await this.devicePollQueue.getJob(devicePollJobId(record.id));
      const state = queued ? await queued.getState() : 'missing';
      if (state === 'failed') {
        await this.deviceFlow.fail(record.orgId, record.id, 'the poller failed');
      } else if (state === 'missing' || state === 'unknown' || state === 'completed') {
        if (queued) await queued.remove();
        await this.producer.enqueue('device-poll', 'POLL_DEVICE_AUTHORIZATION', { orgId: record.orgId, deviceAuthorizationId: record.id }, { jobId: devicePollJobId(record.id) });
        this.logger.warn(`device authorization ${record.id} had no poller: started again`);
      }
    }
  }

  /** One pass over idle open jobs (also called by tests). */
  sweepOnce(): Promise<void> {
    this.running ??= this.sweep()
      .catch((err: Error) => this.logger.warn(`job sweep failed: ${err.message}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<void> {
    const adopted = await this.tokens.resolveAllCandidates();
    if (adopted) this.logger.log(`${adopted} refresh candidate(s) adopted`);
    await this.consent.purgeExpired();
    await this.reconcileDevicePollers();
    for (const job of await this.jobs.idle(IDLE_AFTER_MS)) {
      const queued = await this.queueOf(job).getJob(job.id);
      const state = queued ? await queued.getState() : 'missing';
      if (state === 'missing' || state === 'unknown' || state === 'completed') {
        // `completed` while the record is open: what ran under this id was not the recorded job
        // (a job forged into Redis finds nothing to do and ends): queue the real one again.
        if (queued && state === 'completed') await queued.remove();
        await this.enqueue(job);
        this.logger.warn(`job ${job.id} (${job.type}) had no queue entry: queued again`);
      } else if (state === 'failed') {
        await this.jobs.fail(job.id, queued?.failedReason ?? 'failed');
        const providerId = job.details.find((d) => d.name === 'provider_id')?.value;
        if (job.type === 'DELETE_PROVIDER' && job.orgId && providerId) await this.providers.markDeletionFailed(job.orgId, providerId);
      }
    }
  }

  private async scheduleRotationIfDue(): Promise<void> {
    const due = (await this.secrets.countDue()) + (await this.authorizations.countDue());
    if (due === 0) return;
    const job = await this.jobs.openSystemJob('ROTATE_KEYS');
    await this.enqueue(job);
    this.logger.log(`${due} value(s) under an old encryption key: rotation job ${job.id} queued`);
  }

  private queueOf(job: JobEntity): Queue {
    return job.type === 'DELETE_PROVIDER' ? this.deletionQueue : job.type === 'STATS' ? this.statsQueue : this.rotationQueue;
  }

  private async enqueue(job: JobEntity): Promise<void> {
    const providerId = job.details.find((d) => d.name === 'provider_id')?.value ?? '';
    if (job.type === 'DELETE_PROVIDER' && job.orgId) {
      await this.producer.enqueue('provider-deletion', 'DELETE_PROVIDER', { orgId: job.orgId, providerId, jobId: job.id }, { jobId: job.id });
    } else if (job.type === 'STATS' && job.orgId) {
      await this.producer.enqueue('stats', 'STATS', { orgId: job.orgId, jobId: job.id }, { jobId: job.id });
    } else if (job.type === 'ROTATE_KEYS') {
      await this.producer.enqueue('key-rotation', 'ROTATE_KEYS', { jobId: job.id }, { jobId: job.id });
    }
  }
}
