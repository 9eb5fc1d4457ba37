import { MigrationInterface, QueryRunner } from 'typeorm';

/** People of an org (token subjects). */
export class CreateUsers1763900200000 implements MigrationInterface {
  name = 'CreateUsers1763900200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE identity.users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL REFERENCES identity.orgs(id),
      sub text NOT NULL,
      given_name text,
      family_name text,
      email text,
      zoneinfo text,
      registered_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT users_org_sub_key UNIQUE (org_id, sub))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE identity.users`);
  }
}
