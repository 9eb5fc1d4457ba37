import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JobProducer } from '@broker/bus';
import { OAuthSetupsService, WebhooksService } from '@broker/registry';
import type { Sweeper } from './sweeper';

/** A pending delivery this much past its attempt time has likely lost its queue entry. */
const OVERDUE_MS = 60_000;

/**
 * Expires setups past `expires_at`, removes ended ephemeral ones, and queues again webhook
 * deliveries whose queue entry was lost. Acts only on what PostgreSQL records.
 */
@Injectable()
export class SetupsSweeper implements Sweeper {
  private readonly logger = new Logger('SetupSweep');

  constructor(
    private readonly setups: OAuthSetupsService,
    private readonly webhooks: WebhooksService,
    private readonly producer: JobProducer,
    @InjectQueue('webhook-delivery') private readonly deliveryQueue: Queue,
  ) {}

  async sweep(): Promise<void> {
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
