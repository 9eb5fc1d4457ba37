import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The consent flow's pending states (single-use, hashed, PKCE verifier encrypted), refresh
 * candidates (tokens a refresh obtained after losing its lease: kept encrypted, never dropped,
 * until a resolver adopts or discards them) and the audit trail of authorizations.
 */
export class TokenPath1763901100000 implements MigrationInterface {
  name = 'TokenPath1763901100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE tokens.pending_authorizations (
      state_hash text PRIMARY KEY,
      org_id text NOT NULL,
      user_id text NOT NULL,
      provider_id uuid NOT NULL,
      code_verifier text,
      client_state text,
      redirect_uri text NOT NULL,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE INDEX pending_authorizations_expiry_idx ON tokens.pending_authorizations (expires_at)`,
    );
    await q.query(`CREATE TABLE tokens.refresh_candidates (
      id uuid PRIMARY KEY,
      org_id text NOT NULL,
      authorization_id uuid NOT NULL REFERENCES tokens.authorizations(id) ON DELETE CASCADE,
      from_generation integer NOT NULL,
      access_token text NOT NULL,
      refresh_token text,
      token_type text NOT NULL DEFAULT 'Bearer',
      expires_at timestamptz,
      key_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE INDEX refresh_candidates_authorization_idx ON tokens.refresh_candidates (authorization_id)`,
    );
    await q.query(`CREATE TABLE tokens.audit_events (
      id bigserial PRIMARY KEY,
      org_id text NOT NULL,
      authorization_id uuid NOT NULL,
      type text NOT NULL,
      detail text,
      created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(
      `CREATE INDEX audit_events_authorization_idx ON tokens.audit_events (authorization_id, created_at)`,
    );
    await q.query(`ALTER TABLE tokens.authorizations ADD COLUMN revocation_status text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tokens.authorizations DROP COLUMN revocation_status`);
    await q.query(`DROP TABLE tokens.audit_events`);
    await q.query(`DROP TABLE tokens.refresh_candidates`);
    await q.query(`DROP TABLE tokens.pending_authorizations`);
  }
}
