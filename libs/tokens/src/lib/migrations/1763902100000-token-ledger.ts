import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The provenance ledger: who was served which provider token. One row per (consumer, token,
 * path, restriction...), with when it was first and last served and how often, so the hot path's
 * repeated serves of one token add a count, not rows. The token itself is never stored: only its
 * keyed fingerprint (see TokenFingerprinter).
 */
export class TokenLedger1763902100000 implements MigrationInterface {
  name = 'TokenLedger1763902100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE tokens.token_ledger (
      id bigserial PRIMARY KEY,
      org_id text NOT NULL,
      dedupe_key text NOT NULL,
      token_fingerprint text NOT NULL,
      consumer text NOT NULL,
      actor jsonb,
      subject text NOT NULL,
      authorization_id uuid NOT NULL,
      provider_id uuid NOT NULL,
      path text NOT NULL CHECK (path IN ('rest', 'bus', 'exchange')),
      restriction jsonb,
      attenuated boolean NOT NULL DEFAULT false,
      token_expires_at timestamptz,
      first_served_at timestamptz NOT NULL,
      last_served_at timestamptz NOT NULL,
      serve_count integer NOT NULL DEFAULT 1,
      CONSTRAINT token_ledger_dedupe_key UNIQUE (org_id, dedupe_key))`);
    await q.query(
      `CREATE INDEX token_ledger_subject_idx ON tokens.token_ledger (org_id, subject, last_served_at)`,
    );
    await q.query(
      `CREATE INDEX token_ledger_fingerprint_idx ON tokens.token_ledger (org_id, token_fingerprint)`,
    );
    await q.query(
      `CREATE INDEX token_ledger_consumer_idx ON tokens.token_ledger (org_id, consumer, last_served_at)`,
    );
    await q.query(`CREATE INDEX token_ledger_age_idx ON tokens.token_ledger (last_served_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tokens.token_ledger`);
  }
}
