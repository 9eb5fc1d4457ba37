import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/** pg_dump of a database, from the same PostgreSQL installation the tests run on. */
export function pgDump(url: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => `${root}/${v}/bin/pg_dump`).find((p) => existsSync(p)) ?? 'pg_dump';
  return execFileSync(bin, ['--no-owner', '--no-privileges', url], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}
