import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Consumer policies: the grants that say which provider tokens a client may be served. Before
 * this migration every client holding `tokens:read` could get any token of its org (users their
 * own), so each such client is granted exactly that: every provider, every user of its org
 * (a person's token still reaches only their own authorizations). Clients created afterwards start
 * with no grant and are served nothing until an admin grants them.
 */
export class TokenGrants1763900800000 implements MigrationInterface {
  name = 'TokenGrants1763900800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE identity.token_grants (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      client_id text NOT NULL REFERENCES identity.oauth_clients(id) ON DELETE CASCADE,
      all_providers boolean NOT NULL DEFAULT false,
      provider_ids text[] NOT NULL DEFAULT '{}',
      provider_types text[] NOT NULL DEFAULT '{}',
      subject_mode text NOT NULL CHECK (subject_mode IN ('self', 'users', 'org')),
      subject_users text[] NOT NULL DEFAULT '{}',
      max_scopes text[],
      max_lifetime_seconds integer CHECK (max_lifetime_seconds IS NULL OR max_lifetime_seconds > 0),
      description text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT token_grants_names_providers CHECK (all_providers OR cardinality(provider_ids) + cardinality(provider_types) > 0),
      CONSTRAINT token_grants_names_users CHECK (subject_mode <> 'users' OR cardinality(subject_users) > 0))`);
    await q.query(`CREATE INDEX token_grants_client_idx ON identity.token_grants (client_id)`);
    await q.query(`CREATE INDEX token_grants_org_idx ON identity.token_grants (org_id)`);
    await q.query(`INSERT INTO identity.token_grants (org_id, client_id, all_providers, subject_mode, description)
      SELECT org_id, id, true, 'org', 'granted by the upgrade: what the client could get before consumer policies'
        FROM identity.oauth_clients WHERE 'tokens:read' = ANY(scopes)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE identity.token_grants`);
  }
}
