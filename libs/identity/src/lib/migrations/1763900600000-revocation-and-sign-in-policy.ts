import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Revocation of the broker's own tokens, and who may sign in:
 * - `revocations`: live revocations (hashed keys, see RevocationsService);
 * - users: `disabled`, their own `scopes` (a signed-in person gets the client's scopes ∩ these), and
 *   the upstream identity they are linked to;
 * - orgs: the sign-in policy (invited users only by default);
 * - clients: `allow_user_delegation`, the explicit flag without which a code-flow client's people
 *   never get `tokens:delegate`.
 * People who exist already keep what they could do: every scope but `tokens:delegate` and
 * `identity:admin` (the intersection with their client's scopes is what they had before).
 */
export class RevocationAndSignInPolicy1763900600000 implements MigrationInterface {
  name = 'RevocationAndSignInPolicy1763900600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE identity.revocations (
      key_hash text PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('client', 'subject', 'session', 'token')),
      org_id text NOT NULL,
      not_before timestamptz,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE INDEX revocations_expires_idx ON identity.revocations (expires_at)`);

    await q.query(`ALTER TABLE identity.users
      ADD COLUMN disabled boolean NOT NULL DEFAULT false,
      ADD COLUMN scopes text[] NOT NULL DEFAULT '{}',
      ADD COLUMN upstream_subject text`);
    await q.query(
      `UPDATE identity.users SET scopes = ARRAY['providers:read', 'providers:write', 'authorizations:read', 'authorizations:write', 'tokens:read', 'jobs:read', 'jobs:write', 'setups:write']`,
    );
    await q.query(
      `CREATE UNIQUE INDEX users_org_upstream_subject_key ON identity.users (org_id, upstream_subject) WHERE upstream_subject IS NOT NULL`,
    );
    await q.query(`CREATE INDEX users_org_email_idx ON identity.users (org_id, lower(email))`);

    await q.query(`ALTER TABLE identity.orgs
      ADD COLUMN sign_in_mode text NOT NULL DEFAULT 'invited' CHECK (sign_in_mode IN ('invited', 'domains')),
      ADD COLUMN allowed_email_domains text[] NOT NULL DEFAULT '{}',
      ADD COLUMN require_verified_email boolean NOT NULL DEFAULT true,
      ADD COLUMN default_user_scopes text[] NOT NULL DEFAULT '{}'`);

    await q.query(
      `ALTER TABLE identity.oauth_clients ADD COLUMN allow_user_delegation boolean NOT NULL DEFAULT false`,
    );
    await q.query(`CREATE INDEX refresh_tokens_subject_idx ON identity.refresh_tokens (org_id, sub)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX identity.refresh_tokens_subject_idx`);
    await q.query(`ALTER TABLE identity.oauth_clients DROP COLUMN allow_user_delegation`);
    await q.query(
      `ALTER TABLE identity.orgs DROP COLUMN default_user_scopes, DROP COLUMN require_verified_email, DROP COLUMN allowed_email_domains, DROP COLUMN sign_in_mode`,
    );
    await q.query(`DROP INDEX identity.users_org_email_idx`);
    await q.query(`DROP INDEX identity.users_org_upstream_subject_key`);
    await q.query(
      `ALTER TABLE identity.users DROP COLUMN upstream_subject, DROP COLUMN scopes, DROP COLUMN disabled`,
    );
    await q.query(`DROP TABLE identity.revocations`);
  }
}
