import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A consent started from a hosted OAuth setup (seed 002) remembers the setup, so its outcome is
 * reported back to the registry, and the scopes the setup asked for (a subset of the provider's).
 */
export class ConsentSetups1763901500000 implements MigrationInterface {
  name = 'ConsentSetups1763901500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE tokens.pending_authorizations ADD COLUMN setup_id uuid, ADD COLUMN scopes text[]`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tokens.pending_authorizations DROP COLUMN setup_id, DROP COLUMN scopes`);
  }
}
