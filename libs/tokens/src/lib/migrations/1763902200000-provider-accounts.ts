import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several accounts per provider per user (a personal and a work GitHub): an authorization is now
 * one user's grant from one *account* at a provider, told apart by the account's id at the provider
 * (`account_id`, the provider's user id; null when the provider would not say) and shown by
 * `account_label` (login or e-mail). The unique (org, provider, user) becomes unique (org,
 * provider, user, account). Existing authorizations take their account from the provider user
 * already stored with them.
 */
export class ProviderAccounts1763902200000 implements MigrationInterface {
  name = 'ProviderAccounts1763902200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE tokens.authorizations ADD COLUMN account_id text, ADD COLUMN account_label text`,
    );
    await q.query(`UPDATE tokens.authorizations SET
        account_id = NULLIF(external_user->>'sub', ''),
        account_label = COALESCE(NULLIF(external_user->>'email', ''), NULLIF(external_user->>'nickName', ''), NULLIF(external_user->>'name', ''))`);
    await q.query(`ALTER TABLE tokens.authorizations DROP CONSTRAINT authorizations_user_provider_key`);
    await q.query(
      `CREATE UNIQUE INDEX authorizations_account_key ON tokens.authorizations (org_id, provider_id, user_id, COALESCE(account_id, ''))`,
    );
    await q.query(
      `CREATE INDEX authorizations_user_idx ON tokens.authorizations (org_id, user_id, provider_id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // Only possible while no user has two accounts at one provider.
    await q.query(`DROP INDEX tokens.authorizations_user_idx`);
    await q.query(`DROP INDEX tokens.authorizations_account_key`);
    await q.query(
      `ALTER TABLE tokens.authorizations ADD CONSTRAINT authorizations_user_provider_key UNIQUE (org_id, provider_id, user_id)`,
    );
    await q.query(`ALTER TABLE tokens.authorizations DROP COLUMN account_label, DROP COLUMN account_id`);
  }
}
