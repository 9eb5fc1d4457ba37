import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh scheduling in PostgreSQL instead of one delayed Redis job per token set:
 * - `credentials.refresh_due_at`: when the worker should look at this token set next (NULL: never,
 *   e.g. no refresh token or a dead authorization), indexed so that due rows are claimed in batches;
 * - `authorizations.last_used_at`: when a caller was last served a token of it (written in batches
 *   by the token-broker, at most once per token set and replica), which decides whether a due row
 *   is refreshed ahead (in use) or only kept alive at its provider's idle window (idle).
 * Existing rows count as used and due at their refresh-ahead time, so nobody waits after the upgrade;
 * idle ones settle to their keep-alive time at their first due claim.
 */
export class RefreshSchedule1763902000000 implements MigrationInterface {
  name = 'RefreshSchedule1763902000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tokens.credentials ADD COLUMN refresh_due_at timestamptz`);
    await q.query(`ALTER TABLE tokens.authorizations ADD COLUMN last_used_at timestamptz`);
    await q.query(`UPDATE tokens.authorizations SET last_used_at = now() WHERE status = 'active'`);
    await q.query(
      `UPDATE tokens.credentials SET refresh_due_at = expires_at - LEAST(GREATEST((expires_at - updated_at) * 0.2, interval '10 seconds'), interval '10 minutes')
        WHERE refresh_token IS NOT NULL AND expires_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX credentials_refresh_due_idx ON tokens.credentials (refresh_due_at) WHERE refresh_due_at IS NOT NULL`,
    );
    // Provider deletion walks a provider's authorizations in id order, in batches (this index also
    // serves every (org_id, provider_id) lookup the one it replaces served).
    await q.query(
      `CREATE INDEX authorizations_provider_id_idx ON tokens.authorizations (org_id, provider_id, id)`,
    );
    await q.query(`DROP INDEX tokens.authorizations_provider_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX authorizations_provider_idx ON tokens.authorizations (org_id, provider_id)`);
    await q.query(`DROP INDEX tokens.authorizations_provider_id_idx`);
    await q.query(`DROP INDEX tokens.credentials_refresh_due_idx`);
    await q.query(`ALTER TABLE tokens.authorizations DROP COLUMN last_used_at`);
    await q.query(`ALTER TABLE tokens.credentials DROP COLUMN refresh_due_at`);
  }
}
