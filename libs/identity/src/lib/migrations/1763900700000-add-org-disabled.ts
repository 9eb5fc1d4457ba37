import { MigrationInterface, QueryRunner } from 'typeorm';

/** Orgs can be disabled (clients and users already could): a disabled org's clients cannot authenticate. */
export class AddOrgDisabled1763900700000 implements MigrationInterface {
  name = 'AddOrgDisabled1763900700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identity.orgs ADD COLUMN disabled boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identity.orgs DROP COLUMN disabled`);
  }
}
