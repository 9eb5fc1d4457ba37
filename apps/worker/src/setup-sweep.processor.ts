import { InjectQueue, Processor } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobHandlers, JobProducer, QueueProcessor, processorOptions } from '@broker/bus';
import { OAuthSetupsService, WebhooksService } from '@broker/registry';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';

const SCHEDULER_ID = 'setup-sweep';
/** A pending delivery this much past its attempt time has likely lost its queue entry. */
const OVERDUE_MS = 60_000;

/**
 * SWEEP_SETUPS, repeated by a BullMQ job scheduler (stored in Redis under one id, so however many
 * workers start, one job runs per interval across the cluster): expires setups past `expires_at`,
 * removes ended ephemeral ones, and queues again webhook deliveries whose queue entry was lost.
 * Acts only on what PostgreSQL records.
 */
@Injectable()
@Processor('setup-expiry', processorOptions('setup-expiry'))
export class SetupSweepProcessor extends QueueProcessor<'setup-expiry'> implements OnApplicationBootstrap {
  private readonly logger = new Logger('SetupSweep');
  protected readonly queue = 'setup-expiry' as const;
  protected readonly handlers: JobHandlers<'setup-expiry'> = { SWEEP_SETUPS: () => this.sweep() };

  constructor(
    private readonly setups: OAuthSetupsService,
    private readonly webhooks: WebhooksService,
    private readonly producer: JobProducer,
    @InjectQueue('setup-expiry') private readonly sweepQueue: Queue,
    @InjectQueue('webhook-delivery') private readonly deliveryQueue: Queue,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    super();
  }

  override async onApplicationBootstrap(): Promise<void> {
    super.onApplicationBootstrap();
    await this.sweepQueue.upsertJobScheduler(
      SCHEDULER_ID,
      { every: this.config.setups.sweepEverySeconds * 1000 },
      { name: 'SWEEP_SETUPS', data: {} },
    );
  }

  private async sweep(): Promise<void> {
    const { expired, removed, deliveries } = await this.setups.sweep();
    if (expired || removed)
      this.logger.log(`${expired} setup(s) expired, ${removed} ended ephemeral setup(s) removed`);
    for (const d of deliveries)
      await this.producer.enqueue(
        'webhook-delivery',
        'DELIVER_WEBHOOK',
        { orgId: d.orgId, deliveryId: d.deliveryId },
        { jobId: `${d.deliveryId}-0` },
      );
    for (const d of await this.webhooks.overdue(OVERDUE_MS)) {
      const jobId = `${d.deliveryId}-${d.attempts}`;
      const queued = await this.deliveryQueue.getJob(jobId);
      const state = queued ? await queued.getState() : 'missing';
      if (
        state === 'waiting' ||
        state === 'delayed' ||
        state === 'active' ||
        state === 'prioritized' ||
        state === 'waiting-children'
      )
        continue;
      if (queued) await queued.remove().catch(() => undefined);
      await this.producer.enqueue(
        'webhook-delivery',
        'DELIVER_WEBHOOK',
        { orgId: d.orgId, deliveryId: d.deliveryId },
        { jobId },
      );
      this.logger.warn(`webhook delivery ${d.deliveryId} had no queue entry: queued again`);
    }
  }
}
