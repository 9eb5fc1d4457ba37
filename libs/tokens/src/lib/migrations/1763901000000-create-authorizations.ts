import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Authorizations ("authorized providers": one user's grant at one provider) and their token sets
 * (`credentials`, tokens envelope-encrypted with the row id as associated data).
 */
export class CreateAuthorizations1763901000000 implements MigrationInterface {
  name = 'CreateAuthorizations1763901000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE tokens.authorizations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      provider_id uuid NOT NULL,
      user_id text NOT NULL,
      oauth_client_id text NOT NULL,
      status text NOT NULL DEFAULT 'active',
      credential_id uuid,
      scopes text[] NOT NULL DEFAULT '{}',
      external_user jsonb,
      refresh_token_expires_at timestamptz,
      refresh_succeeded integer NOT NULL DEFAULT 0,
      refresh_failed integer NOT NULL DEFAULT 0,
      last_refreshed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT authorizations_status_check CHECK (status IN ('active','expired','invalidOAuthClient','invalidProviderState')),
      CONSTRAINT authorizations_user_provider_key UNIQUE (org_id, provider_id, user_id))`);
    await q.query(`CREATE INDEX authorizations_provider_idx ON tokens.authorizations (org_id, provider_id)`);
    await q.query(`CREATE TABLE tokens.credentials (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      authorization_id uuid NOT NULL UNIQUE REFERENCES tokens.authorizations(id) ON DELETE CASCADE,
      access_token text NOT NULL,
      refresh_token text,
      token_type text NOT NULL DEFAULT 'Bearer',
      expires_at timestamptz,
      key_id text NOT NULL,
      version integer NOT NULL DEFAULT 1,
      generation integer NOT NULL DEFAULT 1,
      fence bigint NOT NULL DEFAULT 0,
      lease_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX credentials_key_idx ON tokens.credentials (key_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tokens.credentials`);
    await q.query(`DROP TABLE tokens.authorizations`);
  }
}
