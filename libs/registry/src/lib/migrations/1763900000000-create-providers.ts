import { MigrationInterface, QueryRunner } from 'typeorm';

/** The providers table of the registry schema. */
export class CreateProviders1763900000000 implements MigrationInterface {
  name = 'CreateProviders1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE registry.providers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id text NOT NULL,
        name text NOT NULL,
        type text NOT NULL,
        status text NOT NULL DEFAULT 'active',
        client_id text NOT NULL,
        custom_scopes jsonb NOT NULL DEFAULT '[]'::jsonb,
        skip_consent boolean NOT NULL DEFAULT false,
        secure_config_id uuid,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        host text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT providers_type_check CHECK (type IN ('github','gitlab','bitbucket','google','box','microsoft','sharepoint','jira','confluence','oidc','oauth2')),
        CONSTRAINT providers_status_check CHECK (status IN ('active','invalid','deleting','deletion_failed'))
      )`);
    await q.query(`CREATE INDEX providers_org_created_idx ON registry.providers (org_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE registry.providers`);
  }
}
