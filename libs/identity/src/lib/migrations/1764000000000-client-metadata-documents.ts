import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Client ID metadata documents: per org, whether clients identified by URL are accepted, which
 * ones and with which scopes at most; per client, whether it is such a client (its row is the
 * broker's cached copy of its document: name, logo, redirect URIs, and until when the copy holds).
 */
export class ClientMetadataDocuments1764000000000 implements MigrationInterface {
  name = 'ClientMetadataDocuments1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE identity.orgs ADD COLUMN client_metadata_documents boolean NOT NULL DEFAULT false`,
    );
    await q.query(
      `ALTER TABLE identity.orgs ADD COLUMN client_metadata_allowed text[] NOT NULL DEFAULT '{}'`,
    );
    await q.query(
      `ALTER TABLE identity.orgs ADD COLUMN client_metadata_max_scopes text[] NOT NULL DEFAULT '{}'`,
    );
    await q.query(`ALTER TABLE identity.oauth_clients ADD COLUMN kind text NOT NULL DEFAULT 'registered'`);
    await q.query(`ALTER TABLE identity.oauth_clients ADD COLUMN logo_uri text`);
    await q.query(`ALTER TABLE identity.oauth_clients ADD COLUMN metadata_expires_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identity.oauth_clients DROP COLUMN metadata_expires_at`);
    await q.query(`ALTER TABLE identity.oauth_clients DROP COLUMN logo_uri`);
    await q.query(`ALTER TABLE identity.oauth_clients DROP COLUMN kind`);
    await q.query(`ALTER TABLE identity.orgs DROP COLUMN client_metadata_max_scopes`);
    await q.query(`ALTER TABLE identity.orgs DROP COLUMN client_metadata_allowed`);
    await q.query(`ALTER TABLE identity.orgs DROP COLUMN client_metadata_documents`);
  }
}
