// Building the four apps with Nx before they start, and checking what will run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkDist } from '../../tools/build/check-dist.mjs';
import { REPO } from './settings.mjs';

/** The services in start order. */
export const APPS = ['provider-registry', 'token-broker', 'worker', 'gateway'];

/** The built entry point of an app (the one place to change if the build output moves). */
export function appEntry(app) {
  return path.join(REPO, 'dist', 'apps', app, 'main.js');
}

/** nx's CLI script, from its package.json (nx 23 ships it as dist/bin/nx.js, older ones bin/nx.js). */
export function nxBin() {
  const dir = path.join(REPO, 'node_modules', 'nx');
  let bin;
  try {
    bin = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).bin;
  } catch {
    bin = null;
  }
  return path.join(dir, (typeof bin === 'string' ? bin : bin?.nx) ?? 'bin/nx.js');
}

/** Builds the apps with Nx; `track` gets the child (to stop it); resolves with the exit code. */
export function runBuild(track, log) {
  log('building apps');
  const args = [nxBin(), 'run-many', '-t', 'build', `--projects=${APPS.join(',')}`, '--outputStyle=static'];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, NX_DAEMON: 'false' },
    stdio: 'inherit',
  });
  track(child);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      log(`could not run nx: ${err.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      track(null);
      resolve(signal ? 128 + (os.constants.signals[signal] ?? 0) : code);
    });
  });
}

/**
 * What is wrong with the built apps (nothing: null). A build replayed from the Nx cache skips the
 * build's own check, so this runs before anything starts, whatever the build step did.
 */
export function builtAppsProblem() {
  const problems = APPS.flatMap(checkDist);
  if (!problems.length) return null;
  return (
    `the built apps cannot load their modules, so nothing was started:\n  ${problems.join('\n  ')}\n` +
    `The build output in dist/ is broken (it may have been replayed from a bad entry of the Nx cache, .nx/cache).\n` +
    `Fix: npx nx reset && npm start   (clears the cache and rebuilds; or: npx nx run-many -t build --skip-nx-cache)`
  );
}
