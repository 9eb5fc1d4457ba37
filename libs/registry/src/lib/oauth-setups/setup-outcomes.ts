import { DataSource } from 'typeorm';
import { BusException } from '@broker/bus';
import type { OAuthSetupStatus, SetupOutcome } from '@broker/contracts';
import { isUuid } from '../jobs/jobs.service';
import { RecordedDelivery, WebhooksService } from '../webhooks/webhooks.service';
import { SETUPS, SetupRow, effectiveStatus, setupEventData } from './setup-row';

/**
 * How setups end: completed or failed when their consent ends, expired by the sweep. Each end is a
 * conditional update (a setup that already ended keeps its outcome) with its `setup.*` webhooks
 * recorded in the same transaction.
 */
export class SetupOutcomes {
  constructor(
    private readonly dataSource: DataSource,
    private readonly webhooks: WebhooksService,
    private readonly ephemeralRetentionMs: number,
  ) {}

  /**
   * How the setup's consent ended (from the token-broker): opened → completed (with the
   * authorization it produced) or failed, and the `setup.completed|failed` webhooks recorded in the
   * same transaction. A setup that already ended keeps its outcome.
   */
  async finish(
    orgId: string,
    setupId: string,
    result: SetupOutcome,
  ): Promise<{
    setupId: string;
    status: OAuthSetupStatus;
    redirectUrl: string | null;
    deliveries: RecordedDelivery[];
  }> {
    if (!isUuid(setupId)) throw new BusException('NOT_FOUND', 'OAuth setup not found.');
    return this.dataSource.transaction(async (em) => {
      const [[row]] = (await em.query(
        `UPDATE ${SETUPS} SET status = $3, authorization_id = $4, error = $5, finished_at = now(), updated_at = now()
          WHERE id = $1 AND org_id = $2 AND status IN ('unused','opened') RETURNING *`,
        [
          setupId,
          orgId,
          result.outcome,
          result.outcome === 'completed' ? result.authorizationId : null,
          result.outcome === 'failed' ? result.error.slice(0, 200) : null,
        ],
      )) as [SetupRow[], number];
      if (!row) {
        const [current] = (await em.query(`SELECT * FROM ${SETUPS} WHERE id = $1 AND org_id = $2`, [
          setupId,
          orgId,
        ])) as SetupRow[];
        if (!current) throw new BusException('NOT_FOUND', 'OAuth setup not found.');
        return {
          setupId,
          status: effectiveStatus(current),
          redirectUrl: current.redirect_url,
          deliveries: [],
        };
      }
      const deliveries = await this.webhooks.record(
        em,
        orgId,
        result.outcome === 'completed' ? 'setup.completed' : 'setup.failed',
        `setup:${row.id}:${row.status}`,
        setupEventData(row),
      );
      return { setupId, status: row.status, redirectUrl: row.redirect_url, deliveries };
    });
  }

  /**
   * Housekeeping (the worker's `setup-expiry` scheduler, once per cluster): setups past `expires_at`
   * become expired (with `setup.expired` webhooks), and ephemeral setups that ended more than the
   * retention ago are removed.
   */
  async sweep(): Promise<{ expired: number; removed: number; deliveries: RecordedDelivery[] }> {
    return this.dataSource.transaction(async (em) => {
      const [expired] = (await em.query(
        `UPDATE ${SETUPS} SET status = 'expired', finished_at = now(), updated_at = now()
          WHERE id IN (SELECT id FROM ${SETUPS} WHERE status IN ('unused','opened') AND expires_at <= now() ORDER BY expires_at LIMIT 500 FOR UPDATE SKIP LOCKED)
          RETURNING *`,
      )) as [SetupRow[], number];
      const deliveries: RecordedDelivery[] = [];
      for (const row of expired)
        deliveries.push(
          ...(await this.webhooks.record(
            em,
            row.org_id,
            'setup.expired',
            `setup:${row.id}:expired`,
            setupEventData(row),
          )),
        );
      const [, removed] = (await em.query(
        `DELETE FROM ${SETUPS} WHERE is_ephemeral AND status IN ('completed','failed','expired') AND finished_at <= now() - ($1::int * interval '1 millisecond')`,
        [this.ephemeralRetentionMs],
      )) as [unknown, number];
      return { expired: expired.length, removed, deliveries };
    });
  }
}
