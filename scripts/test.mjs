// `npm test [-- jest args]`: runs every jest project against real, throwaway PostgreSQL and Redis
// (unless TEST_DATABASE_URL and TEST_REDIS_URL point at existing ones), tears them down, and ends
// with one line: "N passed, N failed[, N skipped]".
// `--kind=unit|integration|e2e` (npm run test:unit, ...) runs one kind alone (tools/jest/test-kinds.mjs
// says which spec is which); unit runs with no PostgreSQL or Redis at all.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDist } from '../tools/build/check-dist.mjs';
import { KINDS, classifySpecs, exactPathPattern } from '../tools/jest/test-kinds.mjs';
import { ensureDeps } from './ensure-deps.mjs';
import { nxBin } from './runner/build.mjs';
import { startThrowawayServices, stopAllServices, stopAllServicesSync } from './lib/local-services.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS_FILE = path.join(REPO, 'tmp', 'jest-results.json');
const JEST_BIN = path.join(REPO, 'node_modules', 'jest', 'bin', 'jest.js');
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const log = (msg) => process.stderr.write(`[test] ${msg}\n`);
const signalExitCode = (sig) => 128 + (os.constants.signals[sig] ?? 2);

// Turns jest's --json results (or null) and exit code into the summary line and the verdict.
export function summarize(results, jestExitCode) {
  const passed = results?.numPassedTests ?? 0;
  const failed = (results?.numFailedTests ?? 0) + (results?.numRuntimeErrorTestSuites ?? 0);
  const skipped = results?.numPendingTests ?? 0;
  const line = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
  const problems = [];
  if (!results) problems.push('jest wrote no results');
  if (jestExitCode !== 0) problems.push(`jest exited with ${jestExitCode}`);
  if (failed > 0) problems.push(`${failed} failed`);
  if (results && passed + (results.numFailedTests ?? 0) === 0) problems.push('no tests ran');
  return { line, ok: problems.length === 0, problems };
}

/**
 * The jest arguments that narrow a run to one kind of test (none for 'all').
 * @param {'all' | 'unit' | 'integration' | 'e2e'} kind
 * @returns {string[]}
 */
export function kindArgs(kind) {
  if (kind === 'all') return [];
  if (kind === 'e2e') return ['--selectProjects', 'e2e'];
  const specs = classifySpecs();
  const other = kind === 'unit' ? specs.integration : specs.unit;
  // One combined pattern (`=` form): a separate value would swallow the caller's path filters.
  const ignore = `^${REPO.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/e2e/|${exactPathPattern(other)}`;
  return [`--testPathIgnorePatterns=${ignore}`];
}

/**
 * Splits `--kind=...` off the command line.
 * @param {string[]} argv
 * @returns {{ kind: 'all' | 'unit' | 'integration' | 'e2e', jestArgs: string[] }}
 */
export function parseArgs(argv) {
  /** @type {'all' | 'unit' | 'integration' | 'e2e'} */
  let kind = 'all';
  const jestArgs = [];
  for (const arg of argv) {
    const m = /^--kind=(.*)$/.exec(arg);
    if (!m) jestArgs.push(arg);
    else if (KINDS.includes(m[1])) kind = /** @type {'unit' | 'integration' | 'e2e'} */ (m[1]);
    else throw new Error(`--kind must be one of ${KINDS.join(', ')} (got ${m[1]})`);
  }
  return { kind, jestArgs };
}

// Reads jest's --outputFile results; null when missing or unreadable.
export function readResults(file = RESULTS_FILE) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Runs the whole test command (or one kind of test); resolves with the process exit code.
 * @param {string[]} jestArgs
 * @param {'all' | 'unit' | 'integration' | 'e2e'} [kind]
 */
export async function runTests(jestArgs, kind = 'all') {
  let jest = null;
  let interrupted = null;
  const onSignal = (sig) => {
    if (interrupted) {
      stopAllServicesSync(); // second signal: no more patience
      process.exit(signalExitCode(sig));
    }
    interrupted = sig;
    log(`${sig}: stopping`);
    if (jest) jest.kill(sig);
    else stopAllServices(); // still provisioning: kills what runs, so the start fails and unwinds
  };
  for (const sig of SIGNALS) process.on(sig, onSignal);

  let services = null;
  try {
    await ensureDeps();
    /** @type {NodeJS.ProcessEnv} */
    const env = { ...process.env, NX_DAEMON: 'false' };
    // Lint (module boundaries), type-check (tests included) and build first: the end-to-end suite
    // runs the built services as processes. nx caches all three.
    if (!env.SKIP_BUILD) {
      // Formatting first (Prettier, the repo's .prettierrc): a file that differs is named and fails the run.
      const formatted = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--check', '--log-level', 'warn', '{apps,libs,tools,e2e}/**/*.ts'], { cwd: REPO, env, stdio: 'inherit' });
      if (formatted.status !== 0) throw new Error('files differ from Prettier\'s format (npm run format rewrites them): see the list above');
      jest = spawn(process.execPath, [nxBin(), 'run-many', '-t', 'lint', 'typecheck', 'build', '--outputStyle=static'], { cwd: REPO, env, stdio: 'inherit' });
      const built = await new Promise((resolve) => {
        jest.on('error', () => resolve(1));
        jest.on('exit', (c, signal) => resolve(signal ? 128 : c));
      });
      jest = null;
      if (interrupted) return signalExitCode(interrupted);
      if (built !== 0) throw new Error(`lint, type-check or build failed (exit ${built}): see the errors above`);
      // A build replayed from the Nx cache skips the build's own check: check what the e2e suite runs.
      const broken = ['gateway', 'provider-registry', 'token-broker', 'worker', 'admin'].flatMap(checkDist);
      if (broken.length) throw new Error(`the built apps cannot load their modules:\n  ${broken.join('\n  ')}`);
    }
    // Unit tests get no services: the URLs are unset and jest's global setup starts none, so a
    // spec that needs one fails (and belongs to integration) instead of passing by chance.
    if (kind === 'unit') {
      delete env.TEST_DATABASE_URL;
      delete env.TEST_REDIS_URL;
      env.JEST_NO_TEST_SERVICES = '1';
    }
    const needPostgres = kind !== 'unit' && !env.TEST_DATABASE_URL;
    const needRedis = kind !== 'unit' && !env.TEST_REDIS_URL;
    if (needPostgres || needRedis) {
      services = await startThrowawayServices({ postgres: needPostgres, redis: needRedis });
      if (needPostgres) env.TEST_DATABASE_URL = services.databaseUrl;
      if (needRedis) env.TEST_REDIS_URL = services.redisUrl;
    }
    if (interrupted) return signalExitCode(interrupted);

    fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    fs.rmSync(RESULTS_FILE, { force: true });
    // --forceExit: a leaked handle must never hang CI; leaks show up when running a project alone.
    const args = [JEST_BIN, '--ci', '--forceExit', '--json', `--outputFile=${RESULTS_FILE}`, ...kindArgs(kind), ...jestArgs];
    jest = spawn(process.execPath, args, { cwd: REPO, env, stdio: 'inherit' });
    const code = await new Promise((resolve) => {
      jest.on('error', (err) => {
        log(`could not start jest: ${err.message}`);
        resolve(1);
      });
      jest.on('exit', (c, signal) => resolve(signal ? 128 : c));
    });
    jest = null;
    await services?.stop();
    services = null;
    if (interrupted) return signalExitCode(interrupted);

    const summary = summarize(readResults(), code);
    if (!summary.ok) log(`FAILED: ${summary.problems.join('; ')}`);
    process.stdout.write(`${summary.line}\n`);
    return summary.ok ? 0 : 1;
  } catch (err) {
    await services?.stop().catch(() => {});
    await stopAllServices();
    if (interrupted) return signalExitCode(interrupted);
    log(err.stack ?? String(err));
    process.stdout.write(`${summarize(null, 1).line}\n`);
    return 1;
  } finally {
    await stopAllServices(); // anything left from an interrupted start
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (err) {
    log(err.message);
    process.exit(2);
  }
  process.exitCode = await runTests(parsed.jestArgs, parsed.kind);
}
