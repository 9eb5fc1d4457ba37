import { MigrationInterface, QueryRunner } from 'typeorm';

/** Orgs and users can be disabled (clients already could): no new tokens for them while disabled. */
export class AddDisabledFlags1763900550000 implements MigrationInterface {
  name = 'AddDisabledFlags1763900550000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identity.orgs ADD COLUMN disabled boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE identity.users ADD COLUMN disabled boolean NOT NULL DEFAULT false`);
    // Revocation by user (admin tool, user deletion) finds the user's grants without a scan.
    await q.query(`CREATE INDEX refresh_tokens_org_sub_idx ON identity.refresh_tokens (org_id, sub)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX identity.refresh_tokens_org_sub_idx`);
    await q.query(`ALTER TABLE identity.users DROP COLUMN disabled`);
    await q.query(`ALTER TABLE identity.orgs DROP COLUMN disabled`);
  }
}
