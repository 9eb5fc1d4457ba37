import type { DataSource } from 'typeorm';
import type { AuthorizationStatus, BrokerEventType } from '@broker/contracts';
import type { EventSink } from '../ports';

/** Who an authorization event is about (from the authorization's row). */
export interface AuthorizationParties {
  provider_id: string;
  user_id: string;
}

/**
 * What the token path records about an authorization: its audit rows, its status changes (with
 * their audit row and event, as one step) and its broker events (ids and statuses only).
 */
export class AuthorizationJournal {
  constructor(
    private readonly dataSource: DataSource,
    private readonly publish: EventSink,
  ) {}

  /** One audit row. */
  async audit(orgId: string, authorizationId: string, type: string, detail: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail) VALUES ($1, $2, $3, $4)`,
      [orgId, authorizationId, type, detail],
    );
  }

  /**
   * Moves an active authorization to `status` (only from `active`: a second caller changes
   * nothing), audits why, and announces `authorization.expired` when this call made the change.
   */
  async setStatus(
    orgId: string,
    authorizationId: string,
    parties: AuthorizationParties,
    status: AuthorizationStatus,
    reason: string,
  ): Promise<void> {
    const [, count] = (await this.dataSource.query(
      `UPDATE tokens.authorizations SET status = $3, updated_at = now() WHERE id = $1 AND org_id = $2 AND status = 'active'`,
      [authorizationId, orgId, status],
    )) as [unknown, number];
    await this.audit(orgId, authorizationId, `status.${status}`, reason);
    if (count === 1) this.emit('authorization.expired', orgId, authorizationId, parties, status);
  }

  /** Publishes an authorization event (fire and forget). */
  emit(
    type: BrokerEventType,
    orgId: string,
    authorizationId: string,
    parties: AuthorizationParties,
    status: AuthorizationStatus,
  ): void {
    void this.publish({
      type,
      orgId,
      authorizationId,
      providerId: parties.provider_id,
      userId: parties.user_id,
      status,
      at: new Date().toISOString(),
    });
  }
}
