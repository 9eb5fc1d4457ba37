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
  if ((await npm(['ci', '--no-audit', '--no-fund'])) !== 0) {
    // npm ci can fail here because the registry mirror lacks some platform-specific optional
    // builds that are then missing from the lock (see the toolchain notes); npm install copes
    // and still honours the lock.
    log('npm ci failed: falling back to npm install --no-audit --no-fund');
    const code = await npm(['install', '--no-audit', '--no-fund']);
    if (code !== 0) throw new Error(`npm install failed (exit ${code})`);
  }
  // npm install may rewrite package-lock.json after node_modules/.package-lock.json: mark the
  // install as current so the next run does not reinstall.
  if (fs.existsSync(INSTALLED_LOCK)) {
    const now = new Date();
    fs.utimesSync(INSTALLED_LOCK, now, now);
  }
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
