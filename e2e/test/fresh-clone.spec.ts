import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './service-processes';
import { NpmStart, ROOT, allGone } from './npm-start';

/**
 * The README's commands from a second clone of the same repository, on a machine where this clone
 * has already built (what poisoned fresh clones when Nx shared one cache per repository): the
 * second clone installs from the lock file, builds for itself, starts and passes the end-to-end
 * smoke suite. Then a deliberately broken entry of its build cache is replayed: `npm start` refuses
 * to start it and says what to do. The clone is a `git clone` of this repository's HEAD (the
 * committed state); it is removed afterwards.
 */
describe('a second clone of the repository', () => {
  let base: string;
  let clone: string;
  let env: Record<string, string>;
  const runs: NpmStart[] = [];

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'broker-clone-'));
    clone = join(base, 'oauth-token-broker');
    const cloned = spawnSync('git', ['clone', '--quiet', ROOT, clone], { encoding: 'utf8', timeout: 60_000 });
    if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
    env = { GATEWAY_PORT: String(await freePort()), DEMO_IDP_PORT: String(await freePort()) };
  }, 90_000);

  afterAll(async () => {
    for (const run of runs) run.killAll();
    rmSync(base, { recursive: true, force: true });
  }, 60_000);

  const dataDir = () => join(clone, '.data');
  const startInClone = () => {
    const run = new NpmStart(dataDir(), env, clone).start();
    runs.push(run);
    return run;
  };
  async function stop(run: NpmStart): Promise<void> {
    const pids = run.allPids();
    process.kill(run.npmPid, 'SIGTERM');
    expect(await allGone(pids, 20_000)).toBe(true);
  }

  it('installs, builds its own apps, starts with npm start and serves the README walkthrough', async () => {
    const run = startInClone();
    const gateway = await run.ready(420_000);
    // It installed from the lock file and built here: nothing was replayed from another clone's cache.
    expect(run.text).toMatch(/running npm ci/);
    expect(run.text).toMatch(/Successfully ran target build for 4 projects/);
    expect(run.text).not.toMatch(
      /\[(local|remote) cache\]|existing outputs match the cache|read the output from the cache/,
    );
    expect(existsSync(join(clone, '.nx', 'cache'))).toBe(true);
    expect(run.text).not.toMatch(/npm (error|ERR!)/);

    const secret = (
      JSON.parse(readFileSync(join(dataDir(), 'secrets.json'), 'utf8')) as { BOOTSTRAP_CLIENT_SECRET: string }
    ).BOOTSTRAP_CLIENT_SECRET;
    expect((await fetch(`${gateway}/health/ready`)).status).toBe(200);
    const tokenRes = await fetch(`${gateway}/api/v1/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(tokenRes.status).toBe(200);
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const list = (await (
      await fetch(`${gateway}/api/v2/externalOAuth/providers/`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { data: { name: string }[] };
    expect(list.data.map((p) => p.name)).toEqual([
      expect.stringMatching(/^Demo provider \(http:\/\/127\.0\.0\.1:\d+\)$/),
    ]);
    await stop(run);
    expect(spawnSync('git', ['status', '--porcelain'], { cwd: clone, encoding: 'utf8' }).stdout).toBe('');
  }, 600_000);

  it("passes the end-to-end smoke suite against the clone's own build", async () => {
    const jest = spawn(
      process.execPath,
      [
        join(clone, 'node_modules', 'jest', 'bin', 'jest.js'),
        '--ci',
        '--forceExit',
        'e2e/test/walking-skeleton.spec.ts',
      ],
      {
        cwd: clone,
        env: { ...process.env, NX_DAEMON: 'false' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    jest.stdout.on('data', (d: Buffer) => (output += d.toString()));
    jest.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => jest.kill('SIGKILL'), 240_000);
    const code = await new Promise<number | null>((resolve) => jest.once('exit', resolve));
    clearTimeout(timer);
    expect({ code, tail: output.slice(-1500) }).toMatchObject({ code: 0 });
    expect(output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
    expect(output).toContain('PASS e2e e2e/test/walking-skeleton.spec.ts');
  }, 300_000);

  it('refuses to start a broken build replayed from its cache, and says what to do', async () => {
    // Poison the cached gateway build the way the shared cache did: an alias the build should have rewritten.
    const cache = join(clone, '.nx', 'cache');
    const entries = readdirSync(cache).filter((e) =>
      existsSync(join(cache, e, 'dist', 'apps', 'gateway', 'main.js')),
    );
    expect(entries).toHaveLength(1);
    const entry = join(cache, entries[0], 'dist', 'apps', 'gateway', 'main.js');
    writeFileSync(entry, `${readFileSync(entry, 'utf8')}require("@broker/service-runtime");\n`);
    rmSync(join(clone, 'dist'), { recursive: true, force: true });

    const run = startInClone();
    const { code } = await run.exit();
    expect(code).toBe(1);
    expect(run.text).toMatch(
      /gateway: dist\/apps\/gateway\/main\.js requires "@broker\/service-runtime", a workspace alias that the build did not rewrite/,
    );
    expect(run.text).toContain('the built apps cannot load their modules, so nothing was started');
    expect(run.text).toContain('Fix: npx nx reset && npm start');
    // Nothing was started: no lock left, no service ran.
    expect(run.text).not.toMatch(/ready on port|Gateway ready/);
    expect(existsSync(join(dataDir(), 'run.lock'))).toBe(false);

    // The advice works.
    expect(
      spawnSync('npx', ['nx', 'reset'], {
        cwd: clone,
        env: { ...process.env, NX_DAEMON: 'false' },
        timeout: 60_000,
      }).status,
    ).toBe(0);
    const again = startInClone();
    await again.ready(300_000);
    await stop(again);
  }, 600_000);
});
