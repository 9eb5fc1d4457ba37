// Which jest spec files are unit, integration or end-to-end tests, read from the files themselves
// (no naming convention to keep in step): e2e = the `e2e` project; integration = a spec that reaches
// the test PostgreSQL or Redis (the `@broker/testing` service helpers or the TEST_* URLs) or starts a
// server of its own (redis-server, the demo identity provider), itself or through a helper file it
// imports by a relative path; unit = every other spec (pure, no services).
// A spec classified unit that needs a service fails loudly in `npm run test:unit` (its URL is unset).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KINDS = ['unit', 'integration', 'e2e'];

const SERVICE_USE =
  /\b(testRedisUrl|testDatabaseServerUrl|createTestDatabase|TEST_DATABASE_URL|TEST_REDIS_URL|redis-server|demo-idp)\b/;
const RELATIVE_IMPORT = /(?:from|import\(|require\()\s*['"](\.{1,2}\/[^'"]+)['"]/g;
const ROOTS = ['apps', 'libs', 'tools'];

/** Spec files of the service and library projects (the e2e project apart), repo-relative. */
export function projectSpecs() {
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.spec.ts')) out.push(path.relative(REPO, full));
    }
  };
  for (const root of ROOTS) walk(path.join(REPO, root));
  return out.sort();
}

/**
 * Whether a file, or a file it imports by a relative path (followed transitively), uses a test service.
 * @param {string} file  absolute path
 * @param {Set<string>} [seen]
 * @returns {boolean}
 */
function usesServices(file, seen = new Set()) {
  if (seen.has(file)) return false;
  seen.add(file);
  let source;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (SERVICE_USE.test(source)) return true;
  for (const [, spec] of source.matchAll(RELATIVE_IMPORT)) {
    const base = path.resolve(path.dirname(file), spec);
    for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile() && usesServices(candidate, seen)) return true;
    }
  }
  return false;
}

/** @returns {{ unit: string[], integration: string[] }} repo-relative spec paths by kind */
export function classifySpecs() {
  const unit = [];
  const integration = [];
  for (const file of projectSpecs()) (usesServices(path.join(REPO, file)) ? integration : unit).push(file);
  return { unit, integration };
}

/** A jest path pattern (regex) matching exactly these repo-relative files. */
export function exactPathPattern(files) {
  const escaped = files.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return `/(${escaped.join('|')})$`;
}
