import { MigrationInterface, QueryRunner } from 'typeorm';

/** A GitHub App's public settings (slug, install URL), so its install page is known before any installation. */
export class GitHubAppSettings1763900600000 implements MigrationInterface {
  name = 'GitHubAppSettings1763900600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry.providers ADD COLUMN github_app jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registry.providers DROP COLUMN github_app`);
  }
}
