import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Seed 002 OAuth setups (ids are UUIDv7, so they sort by creation and a list cursor is just an id:
 * a deleted item never breaks a walk) and the org's webhook endpoints with their delivery log
 * (secrets live in `secure_configs`, so key rotation re-wraps them with the client secrets).
 */
export class OAuthSetupsAndWebhooks1763900700000 implements MigrationInterface {
  name = 'OAuthSetupsAndWebhooks1763900700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE registry.oauth_setups (
      id uuid PRIMARY KEY,
      org_id text NOT NULL,
      provider_id uuid NOT NULL REFERENCES registry.providers(id) ON DELETE CASCADE,
      user_id text NOT NULL,
      status text NOT NULL DEFAULT 'unused',
      is_ephemeral boolean NOT NULL DEFAULT false,
      name text,
      description text,
      metadata jsonb,
      redirect_url text,
      config jsonb NOT NULL DEFAULT '{}'::jsonb,
      link_hash text NOT NULL UNIQUE,
      authorization_id uuid,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      finished_at timestamptz,
      CONSTRAINT oauth_setups_status_check CHECK (status IN ('unused','opened','completed','failed','expired')))`);
    await q.query(`CREATE INDEX oauth_setups_list_idx ON registry.oauth_setups (org_id, provider_id, id)`);
    await q.query(
      `CREATE INDEX oauth_setups_open_idx ON registry.oauth_setups (expires_at) WHERE status IN ('unused','opened')`,
    );
    await q.query(
      `CREATE INDEX oauth_setups_ephemeral_idx ON registry.oauth_setups (finished_at) WHERE is_ephemeral`,
    );
    await q.query(`CREATE TABLE registry.webhook_endpoints (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      url text NOT NULL,
      description text,
      event_types text[] NOT NULL,
      status text NOT NULL DEFAULT 'enabled',
      disabled_reason text,
      secure_config_id uuid NOT NULL,
      last_success_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT webhook_endpoints_status_check CHECK (status IN ('enabled','disabled')))`);
    await q.query(
      `CREATE INDEX webhook_endpoints_org_idx ON registry.webhook_endpoints (org_id, created_at)`,
    );
    await q.query(`CREATE TABLE registry.webhook_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      endpoint_id uuid NOT NULL REFERENCES registry.webhook_endpoints(id) ON DELETE CASCADE,
      event_type text NOT NULL,
      event_key text NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending',
      attempts integer NOT NULL DEFAULT 0,
      last_status_code integer,
      last_error text,
      next_attempt_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz,
      CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_key),
      CONSTRAINT webhook_deliveries_status_check CHECK (status IN ('pending','succeeded','failed')))`);
    await q.query(
      `CREATE INDEX webhook_deliveries_endpoint_idx ON registry.webhook_deliveries (endpoint_id, created_at DESC)`,
    );
    await q.query(
      `CREATE INDEX webhook_deliveries_pending_idx ON registry.webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE registry.webhook_deliveries`);
    await q.query(`DROP TABLE registry.webhook_endpoints`);
    await q.query(`DROP TABLE registry.oauth_setups`);
  }
}
