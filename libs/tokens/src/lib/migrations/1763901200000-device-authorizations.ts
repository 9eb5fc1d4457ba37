import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * RFC 8628 device authorizations: one row per started flow. The device code is a secret: it is
 * stored envelope-encrypted (row id as associated data) and looked up by its SHA-256 hash.
 */
export class DeviceAuthorizations1763901200000 implements MigrationInterface {
  name = 'DeviceAuthorizations1763901200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE tokens.device_authorizations (
      id uuid PRIMARY KEY,
      org_id text NOT NULL,
      user_id text NOT NULL,
      provider_id uuid NOT NULL,
      device_code text NOT NULL,
      device_code_hash text NOT NULL UNIQUE,
      key_id text NOT NULL,
      user_code text NOT NULL,
      verification_uri text NOT NULL,
      interval_seconds integer NOT NULL,
      expires_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      last_poll_result text,
      error text,
      polls integer NOT NULL DEFAULT 0,
      authorization_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT device_authorizations_status_check CHECK (status IN ('pending','authorized','denied','expired','failed')))`);
    await q.query(
      `CREATE INDEX device_authorizations_user_idx ON tokens.device_authorizations (org_id, user_id, provider_id)`,
    );
    await q.query(
      `CREATE INDEX device_authorizations_expiry_idx ON tokens.device_authorizations (expires_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tokens.device_authorizations`);
  }
}
