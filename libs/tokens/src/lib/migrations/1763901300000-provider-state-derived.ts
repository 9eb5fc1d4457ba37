import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `invalidProviderState` is no longer stored: an authorization is reported in that state while its
 * provider is not active, and is served again once the provider is re-activated. Authorizations an
 * earlier version marked so for good (at a refresh while the provider was inactive) come back as
 * `active`; the token path re-checks them (a dead grant still ends as `expired` at its next refresh).
 */
export class ProviderStateDerived1763901300000 implements MigrationInterface {
  name = 'ProviderStateDerived1763901300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE tokens.authorizations SET status = 'active', updated_at = now() WHERE status = 'invalidProviderState'`,
    );
  }

  async down(): Promise<void> {
    // Nothing to undo: which authorizations were blocked by their provider is derived, not stored.
  }
}
