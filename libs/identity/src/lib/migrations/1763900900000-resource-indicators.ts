import { MigrationInterface, QueryRunner } from 'typeorm';

/** RFC 8707: the resource an authorization code (and the refresh-token family it starts) is for; null: the broker's API. */
export class ResourceIndicators1763900900000 implements MigrationInterface {
  name = 'ResourceIndicators1763900900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identity.authorization_codes ADD COLUMN resource text`);
    await q.query(`ALTER TABLE identity.refresh_tokens ADD COLUMN resource text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identity.refresh_tokens DROP COLUMN resource`);
    await q.query(`ALTER TABLE identity.authorization_codes DROP COLUMN resource`);
  }
}
