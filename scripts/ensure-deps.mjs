// Makes sure node_modules matches the committed package-lock.json (Node built-ins only, so it runs
// before anything is installed). Usage: `node scripts/ensure-deps.mjs`, or import { ensureDeps }.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCK = path.join(REPO, 'package-lock.json');
const INSTALLED_LOCK = path.join(REPO, 'node_modules', '.package-lock.json'); // npm's record of what it installed

// Installs dependencies when node_modules is missing or older than package-lock.json.
export async function ensureDeps({ log = (msg) => process.stderr.write(`[deps] ${msg}\n`) } = {}) {
  if (!needsInstall()) return false;
  log('node_modules is missing or older than package-lock.json: running npm ci');
  const code = await npm(['ci', '--no-audit', '--no-fund']);
  // No fallback to `npm install`: it would rewrite the committed lock file. A failing `npm ci` means
  // package.json and package-lock.json disagree, which is a bug of the commit, not of this machine.
  if (code !== 0) throw new Error(`npm ci failed (exit ${code}): package-lock.json must match package.json`);
  return true;
}

function needsInstall() {
  let installed;
  try {
    installed = fs.statSync(INSTALLED_LOCK).mtimeMs;
  } catch {
    return true;
  }
  return fs.statSync(LOCK).mtimeMs > installed;
}

function npm(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
      cwd: REPO,
      stdio: ['ignore', 2, 2], // npm's output on stderr keeps the caller's stdout clean
    });
    let interrupted = null;
    const forward = (sig) => {
      interrupted = sig;
      child.kill(sig);
    };
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      if (signal || interrupted) reject(new Error(`npm ${args[0]} interrupted (${signal ?? interrupted})`));
      else resolve(code);
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureDeps().catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
