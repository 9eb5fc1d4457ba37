import { MigrationInterface, QueryRunner } from 'typeorm';

/** Authorization codes and refresh-token families, stored only as keyed hashes. */
export class CreateGrants1763900300000 implements MigrationInterface {
  name = 'CreateGrants1763900300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE identity.authorization_codes (
      code_hash text PRIMARY KEY,
      org_id text NOT NULL REFERENCES identity.orgs(id),
      client_id text NOT NULL REFERENCES identity.oauth_clients(id) ON DELETE CASCADE,
      sub text NOT NULL,
      redirect_uri text NOT NULL,
      code_challenge text NOT NULL,
      scope text[] NOT NULL,
      zoneinfo text,
      family_id uuid,
      expires_at timestamptz NOT NULL,
      consumed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE identity.refresh_tokens (
      token_hash text PRIMARY KEY,
      family_id uuid NOT NULL,
      org_id text NOT NULL REFERENCES identity.orgs(id),
      client_id text NOT NULL REFERENCES identity.oauth_clients(id) ON DELETE CASCADE,
      sub text NOT NULL,
      scope text[] NOT NULL,
      zoneinfo text,
      generation integer NOT NULL,
      expires_at timestamptz NOT NULL,
      consumed_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON identity.refresh_tokens (family_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE identity.refresh_tokens`);
    await q.query(`DROP TABLE identity.authorization_codes`);
  }
}
