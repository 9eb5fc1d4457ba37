import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Encrypted client secrets (`secure_configs`), the provider instance configuration (self-hosted
 * host, tenant, issuer, explicit endpoints) with what the catalogue resolved from it, optimistic versions, and
 * the user-visible job records (`jobs`).
 */
export class SecretsAndJobs1763900500000 implements MigrationInterface {
  name = 'SecretsAndJobs1763900500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry.providers
      ADD COLUMN config jsonb NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN resolved jsonb NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN version integer NOT NULL DEFAULT 1`);
    await q.query(`CREATE TABLE registry.secure_configs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      client_secret text NOT NULL,
      key_id text NOT NULL,
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX secure_configs_key_idx ON registry.secure_configs (key_id)`);
    await q.query(`CREATE TABLE registry.jobs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text,
      type text NOT NULL,
      status text NOT NULL DEFAULT 'PENDING',
      details jsonb NOT NULL DEFAULT '[]'::jsonb,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      CONSTRAINT jobs_type_check CHECK (type IN ('DELETE_PROVIDER','STATS','ROTATE_KEYS')),
      CONSTRAINT jobs_status_check CHECK (status IN ('PENDING','RUNNING','COMPLETED','ERROR')))`);
    await q.query(`CREATE INDEX jobs_org_idx ON registry.jobs (org_id, created_at)`);
    await q.query(
      `CREATE INDEX jobs_open_idx ON registry.jobs (status, updated_at) WHERE status IN ('PENDING','RUNNING')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE registry.jobs`);
    await q.query(`DROP TABLE registry.secure_configs`);
    await q.query(
      `ALTER TABLE registry.providers DROP COLUMN config, DROP COLUMN resolved, DROP COLUMN version`,
    );
  }
}
