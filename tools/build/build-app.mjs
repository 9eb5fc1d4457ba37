// Builds one app into dist/apps/<app>: tsc, then the workspace's `@broker/*` path aliases turned
// into relative requires, then dist/apps/<app>/main.js, then checkDist() over the output.
// Usage: node tools/build/build-app.mjs <app>
//
// Why not `nest build`: its alias rewrite (tsconfig-paths hook) keeps an alias unchanged whenever
// `require.resolve()` finds a package of that name from the CLI's own folder or the current one —
// NODE_PATH, or any node_modules folder above the workspace, or a `@broker/*` package installed into
// it. The build then succeeds and the app crashes at start with "Cannot find module
// '@broker/service-runtime'", and a shared Nx cache replayed that output into every other clone.
// (tsc-alias 1.9.10 was tried too: it resolves TypeScript 6's root-relative `paths` against the
// app's folder and rewrites nothing.) The rewrite below depends only on tsconfig.base.json.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDist, distDir, jsFiles, REPO } from './check-dist.mjs';

const ALIAS_REQUIRE = /require\("(@broker\/[a-z0-9-]+)"\)/g;

// The `@broker/*` aliases of tsconfig.base.json: alias -> repo-relative module path without extension.
export function workspaceAliases() {
  const base = JSON.parse(fs.readFileSync(path.join(REPO, 'tsconfig.base.json'), 'utf8'));
  const paths = base.compilerOptions?.paths ?? {};
  return new Map(Object.entries(paths).map(([alias, [target]]) => [alias, path.normalize(target)]));
}

// Rewrites every `require("@broker/x")` under outDir into a relative require of the compiled lib.
export function rewriteAliases(outDir, aliases = workspaceAliases()) {
  let rewritten = 0;
  for (const file of jsFiles(outDir)) {
    const source = fs.readFileSync(file, 'utf8');
    const next = source.replace(ALIAS_REQUIRE, (whole, alias) => {
      const target = aliases.get(alias);
      if (!target) return whole; // left for checkDist to report
      let rel = path.relative(path.dirname(file), path.join(outDir, target)).split(path.sep).join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      rewritten++;
      return `require("${rel}")`;
    });
    if (next !== source) fs.writeFileSync(file, next);
  }
  return rewritten;
}

// Where each buildable project lives (the services under apps/, the admin tool under tools/).
const PROJECT_ROOTS = { admin: 'tools/admin' };
const projectRoot = (app) => PROJECT_ROOTS[app] ?? `apps/${app}`;

function build(app) {
  const tsconfig = path.join(projectRoot(app), 'tsconfig.app.json');
  if (!fs.existsSync(path.join(REPO, tsconfig))) throw new Error(`no such app: ${app} (${tsconfig} is missing)`);
  const out = distDir(app);
  fs.rmSync(out, { recursive: true, force: true });
  const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', tsconfig], { cwd: REPO, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc failed for ${app} (exit ${result.status ?? result.signal})`);
  rewriteAliases(out);
  fs.writeFileSync(path.join(out, 'main.js'), `'use strict';\nrequire('./${projectRoot(app)}/src/main');\n`);
  const problems = checkDist(app);
  if (problems.length) throw new Error(problems.join('\n'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const app = process.argv[2];
  if (!app) {
    process.stderr.write('usage: node tools/build/build-app.mjs <app>\n');
    process.exit(2);
  }
  try {
    build(app);
  } catch (err) {
    process.stderr.write(`build of ${app} failed:\n${err.message}\n`);
    process.exit(1);
  }
}
