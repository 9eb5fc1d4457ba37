import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobHandlers, QueueProcessor, processorOptions } from '@broker/bus';
import type { JobName } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { DevicePollersSweeper } from './device-pollers.sweeper';
import { OpenJobsSweeper } from './open-jobs.sweeper';
import { SetupsSweeper } from './setups.sweeper';
import type { Sweeper } from './sweeper';
import { ConsentStatesSweeper, RefreshCandidatesSweeper } from './token-leftovers.sweeper';

type Sweep = JobName<'setup-expiry'>;

/** The scheduler id of each sweep (stored in Redis; `setup-sweep` predates the others: never rename). */
export const SWEEP_SCHEDULER_IDS: Record<Sweep, string> = {
  SWEEP_SETUPS: 'setup-sweep',
  SWEEP_REFRESH_CANDIDATES: 'refresh-candidates-sweep',
  SWEEP_CONSENT_STATES: 'consent-states-sweep',
  SWEEP_DEVICE_POLLERS: 'device-pollers-sweep',
  SWEEP_OPEN_JOBS: 'open-jobs-sweep',
};

/**
 * The housekeeping sweeps, on the `setup-expiry` queue (named after its first sweep). Each is
 * repeated by a BullMQ job scheduler stored in Redis under one id, so however many workers start
 * (each upserts the same schedulers), each sweep runs once per interval across the cluster, on
 * whichever worker takes the job; each worker re-creates a scheduler it finds missing (a Redis
 * flush). This processor only hands each job to its sweeper.
 */
@Injectable()
@Processor('setup-expiry', processorOptions('setup-expiry'))
export class HousekeepingProcessor
  extends QueueProcessor<'setup-expiry'>
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('Housekeeping');
  private checker?: NodeJS.Timeout;
  protected readonly queue = 'setup-expiry' as const;
  private readonly sweepers: Record<Sweep, Sweeper>;
  protected readonly handlers: JobHandlers<'setup-expiry'>;

  constructor(
    setups: SetupsSweeper,
    candidates: RefreshCandidatesSweeper,
    consentStates: ConsentStatesSweeper,
    devicePollers: DevicePollersSweeper,
    openJobs: OpenJobsSweeper,
    @InjectQueue('setup-expiry') private readonly sweepQueue: Queue,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    super();
    this.sweepers = {
      SWEEP_SETUPS: setups,
      SWEEP_REFRESH_CANDIDATES: candidates,
      SWEEP_CONSENT_STATES: consentStates,
      SWEEP_DEVICE_POLLERS: devicePollers,
      SWEEP_OPEN_JOBS: openJobs,
    };
    const run = (name: Sweep) => () => this.sweepers[name].sweep();
    this.handlers = {
      SWEEP_SETUPS: run('SWEEP_SETUPS'),
      SWEEP_REFRESH_CANDIDATES: run('SWEEP_REFRESH_CANDIDATES'),
      SWEEP_CONSENT_STATES: run('SWEEP_CONSENT_STATES'),
      SWEEP_DEVICE_POLLERS: run('SWEEP_DEVICE_POLLERS'),
      SWEEP_OPEN_JOBS: run('SWEEP_OPEN_JOBS'),
    };
  }

  override async onApplicationBootstrap(): Promise<void> {
    await super.onApplicationBootstrap();
    await this.ensureSchedulers();
    // A Redis flush removes the schedulers (and with them every sweep, the one that re-queues the
    // jobs the flush lost included): each worker looks for them once per sweep interval.
    this.checker = setInterval(
      () =>
        void this.ensureSchedulers(true).catch((err: Error) =>
          this.logger.warn(`housekeeping scheduler check failed: ${err.message}`),
        ),
      this.config.housekeeping.sweepEverySeconds * 1000,
    );
    this.checker.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.checker);
  }

  /** Creates each sweep's job scheduler (idempotent); with `onlyIfMissing`, only those that are gone. */
  private async ensureSchedulers(onlyIfMissing = false): Promise<void> {
    for (const name of Object.keys(SWEEP_SCHEDULER_IDS) as Sweep[]) {
      const id = SWEEP_SCHEDULER_IDS[name];
      if (onlyIfMissing && (await this.sweepQueue.getJobScheduler(id))) continue;
      const seconds =
        name === 'SWEEP_SETUPS'
          ? this.config.setups.sweepEverySeconds
          : this.config.housekeeping.sweepEverySeconds;
      await this.sweepQueue.upsertJobScheduler(id, { every: seconds * 1000 }, { name, data: {} });
      if (onlyIfMissing) this.logger.warn(`the ${id} scheduler was missing (Redis flushed?): created again`);
    }
  }
}
