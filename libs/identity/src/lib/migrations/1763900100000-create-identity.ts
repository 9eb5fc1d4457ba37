import { MigrationInterface, QueryRunner } from 'typeorm';

/** Orgs, the broker's OAuth clients and its token-signing keys. */
export class CreateIdentity1763900100000 implements MigrationInterface {
  name = 'CreateIdentity1763900100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE identity.orgs (
      id text PRIMARY KEY,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE identity.oauth_clients (
      id text PRIMARY KEY,
      org_id text NOT NULL REFERENCES identity.orgs(id),
      name text NOT NULL,
      secret_hash text NOT NULL,
      grant_types text[] NOT NULL,
      scopes text[] NOT NULL,
      redirect_uris text[] NOT NULL DEFAULT '{}',
      disabled boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX oauth_clients_org_idx ON identity.oauth_clients (org_id)`);
    await q.query(`CREATE TABLE identity.signing_keys (
      kid text PRIMARY KEY,
      alg text NOT NULL,
      public_jwk jsonb NOT NULL,
      private_jwk_enc text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      rotate_at timestamptz NOT NULL,
      retire_at timestamptz NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE identity.signing_keys`);
    await q.query(`DROP TABLE identity.oauth_clients`);
    await q.query(`DROP TABLE identity.orgs`);
  }
}
