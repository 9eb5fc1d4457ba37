// Checks that a built app can load every module it requires, without running it: each
// `require("…")` in dist/apps/<app> must be a Node built-in, a relative file that exists, or a
// package installed in this workspace's own node_modules. Run after every build (build-app.mjs) and
// again before anything starts the output (npm start, the end-to-end tests), because a build
// replayed from a cache skips the build step.
// Usage: node tools/build/check-dist.mjs <app> [<app> ...]
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OWN_MODULES = path.join(REPO, 'node_modules') + path.sep;
const REQUIRE = /\brequire\("([^"]+)"\)/g;
const BUILTINS = new Set(builtinModules);

export function distDir(app) {
  return path.join(REPO, 'dist', 'apps', app);
}

// Returns a list of problems (empty when the output is sound); each says what to do.
export function checkDist(app) {
  const out = distDir(app);
  const entry = path.join(out, 'main.js');
  const rebuild = `rebuild it with: npx nx run ${app}:build --skip-nx-cache`;
  if (!fs.existsSync(entry)) return [`${app}: ${path.relative(REPO, entry)} is missing; ${rebuild}`];
  const problems = [];
  for (const file of jsFiles(out)) {
    const source = fs.readFileSync(file, 'utf8');
    const req = createRequire(file);
    for (const [, spec] of source.matchAll(REQUIRE)) {
      const where = `${app}: ${path.relative(REPO, file)} requires "${spec}"`;
      if (spec.startsWith('node:') || BUILTINS.has(spec)) continue;
      if (spec.startsWith('@broker/')) {
        problems.push(`${where}, a workspace alias that the build did not rewrite; ${rebuild}`);
        continue;
      }
      let resolved;
      try {
        resolved = req.resolve(spec);
      } catch {
        problems.push(`${where}, which does not resolve; ${spec.startsWith('.') ? rebuild : 'run npm ci'}`);
        continue;
      }
      if (!spec.startsWith('.') && !resolved.startsWith(OWN_MODULES))
        problems.push(`${where}, found outside this workspace (${resolved}); run npm ci, and remove that copy or NODE_PATH`);
    }
    if (problems.length >= 20) break;
  }
  return problems;
}

// Every .js file under dir.
export function* jsFiles(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* jsFiles(full);
    else if (entry.name.endsWith('.js')) yield full;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const apps = process.argv.slice(2);
  if (!apps.length) {
    process.stderr.write('usage: node tools/build/check-dist.mjs <app> [<app> ...]\n');
    process.exit(2);
  }
  const problems = apps.flatMap(checkDist);
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.exit(problems.length ? 1 : 0);
}
