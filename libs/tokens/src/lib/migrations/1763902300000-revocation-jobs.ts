import { MigrationInterface, QueryRunner } from 'typeorm';

/** Blast-radius revocation jobs: what was asked, by whom, and the report (ids and reasons only, never a token). */
export class RevocationJobs1763902300000 implements MigrationInterface {
  name = 'RevocationJobs1763902300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE tokens.revocation_jobs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      target_kind text NOT NULL CHECK (target_kind IN ('user', 'consumer', 'provider')),
      target_id text NOT NULL,
      status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
      reason text NOT NULL DEFAULT '',
      requested_by text NOT NULL,
      report jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz)`);
    await q.query(`CREATE INDEX revocation_jobs_org_idx ON tokens.revocation_jobs (org_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tokens.revocation_jobs`);
  }
}
