import { MigrationInterface, QueryRunner } from 'typeorm';

/** The OIDC `nonce` of an authorization request, echoed in the ID token of its code. */
export class AddCodeNonce1763900400000 implements MigrationInterface {
  name = 'AddCodeNonce1763900400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identity.authorization_codes ADD COLUMN nonce text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE identity.authorization_codes DROP COLUMN nonce`);
  }
}
