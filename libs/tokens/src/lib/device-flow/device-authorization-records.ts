import { DataSource } from 'typeorm';
import { EncryptionContext } from '@broker/crypto';

/** Device authorizations (RFC 8628): one row per started flow, its device code envelope-encrypted. */
export const TABLE = 'tokens.device_authorizations';

export type DeviceAuthorizationStatus = 'pending' | 'authorized' | 'denied' | 'expired' | 'failed';

/** One row of `tokens.device_authorizations`. */
export interface DeviceRow {
  id: string;
  org_id: string;
  user_id: string;
  provider_id: string;
  device_code: string;
  interval_seconds: number;
  updated_at: Date;
  expires_at: Date;
  status: DeviceAuthorizationStatus;
  last_poll_result: string | null;
  error: string | null;
}

/** The encryption context of a record's device code. */
export function context(orgId: string, rowId: string): EncryptionContext {
  return { table: TABLE, column: 'device_code', orgId, rowId };
}

/**
 * The record side of a device authorization's life: each poll's result and interval, its end
 * (only from pending, so a late poll never overwrites an outcome), and the housekeeping reads.
 */
export class DeviceAuthorizationRecords {
  constructor(private readonly dataSource: DataSource) {}

  /** One poll's result, and the interval until the next (kept: a `slow_down` lasts). */
  async polled(orgId: string, id: string, result: string, intervalSeconds: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${TABLE} SET last_poll_result = $3, interval_seconds = $4, polls = polls + 1, updated_at = now() WHERE id = $1 AND org_id = $2 AND status = 'pending'`,
      [id, orgId, result, intervalSeconds],
    );
  }

  /** Ends a pending record with its outcome. */
  async finish(
    orgId: string,
    id: string,
    status: Exclude<DeviceAuthorizationStatus, 'pending' | 'authorized'>,
    error: string,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${TABLE} SET status = $3, error = $4, last_poll_result = $4, updated_at = now() WHERE id = $1 AND org_id = $2 AND status = 'pending'`,
      [id, orgId, status, error],
    );
  }

  /**
   * Housekeeping: pending records past their expiry become `expired` (their poller may be gone),
   * finished ones are deleted a day after they ended, encrypted device code included.
   */
  async sweep(): Promise<{ expired: number; purged: number }> {
    const [, expired] = (await this.dataSource.query(
      `UPDATE ${TABLE} SET status = 'expired', error = 'expired_token', last_poll_result = 'expired_token', updated_at = now() WHERE status = 'pending' AND expires_at < now()`,
    )) as [unknown, number];
    const [, purged] = (await this.dataSource.query(
      `DELETE FROM ${TABLE} WHERE status <> 'pending' AND updated_at < now() - interval '1 day'`,
    )) as [unknown, number];
    return { expired, purged };
  }

  /** Pending records nobody has polled for `idleMs` past their interval: their poller may have been lost. */
  async stalled(idleMs: number): Promise<{ orgId: string; id: string }[]> {
    const rows = (await this.dataSource.query(
      `SELECT org_id, id FROM ${TABLE} WHERE status = 'pending' AND expires_at > now() AND updated_at < now() - make_interval(secs => interval_seconds + $1::float / 1000) ORDER BY updated_at LIMIT 100`,
      [idleMs],
    )) as { org_id: string; id: string }[];
    return rows.map((r) => ({ orgId: r.org_id, id: r.id }));
  }
}
