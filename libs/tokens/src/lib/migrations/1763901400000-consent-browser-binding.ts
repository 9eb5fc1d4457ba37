import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A browser-started consent is bound to the browser that confirmed it on the broker's start page:
 * the SHA-256 of the cookie it was given. The browser callback completes only with that cookie.
 */
export class ConsentBrowserBinding1763901400000 implements MigrationInterface {
  name = 'ConsentBrowserBinding1763901400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tokens.pending_authorizations ADD COLUMN browser_binding text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tokens.pending_authorizations DROP COLUMN browser_binding`);
  }
}
