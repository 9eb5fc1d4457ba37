import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './service-processes';
import { NpmStart, allGone, isAlive, npmStartOnce, sleep } from './npm-start';

/**
 * `npm start` as a supervisor, driven through npm as a person (or a process manager) would: one run
 * per data folder, crashed services and a dead Redis restarted while the rest keeps serving, and a
 * signal to whichever process gets it stops everything it started. Uses the apps `npm test` built
 * (SKIP_BUILD=1) and its own data folder and ports.
 */
describe('npm start (the local supervisor)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  const runs: NpmStart[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'broker-runner-'));
    env = {
      SKIP_BUILD: '1',
      GATEWAY_PORT: String(await freePort()),
      DEMO_IDP_PORT: String(await freePort()),
    };
  });

  afterAll(async () => {
    for (const run of runs) run.killAll();
    await sleep(500);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function started(): Promise<{ run: NpmStart; gateway: string }> {
    const run = new NpmStart(dataDir, env).start();
    runs.push(run);
    return { run, gateway: await run.ready() };
  }

  const secret = () =>
    (JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { BOOTSTRAP_CLIENT_SECRET: string })
      .BOOTSTRAP_CLIENT_SECRET;

  /** A client_credentials token from the gateway: gateway → bus → token-broker → PostgreSQL. */
  async function adminToken(gateway: string): Promise<{ status: number; token?: string }> {
    try {
      const res = await fetch(`${gateway}/api/v1/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`admin:${secret()}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.json().catch(() => ({}))) as { access_token?: string };
      return { status: res.status, token: body.access_token };
    } catch {
      return { status: 0 };
    }
  }

  /** The providers list: gateway → bus → provider-registry → PostgreSQL. */
  async function providers(gateway: string, token: string): Promise<number> {
    try {
      const res = await fetch(`${gateway}/api/v2/externalOAuth/providers/`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5_000),
      });
      await res.body?.cancel();
      return res.status;
    } catch {
      return 0;
    }
  }

  async function healthStatus(port: number | undefined): Promise<number> {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`, {
        signal: AbortSignal.timeout(2_000),
      });
      await res.body?.cancel();
      return res.status;
    } catch {
      return 0;
    }
  }

  /** Polls `check` until it is true, bounded. */
  async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
      await sleep(200);
    }
  }

  describe('one running system', () => {
    let run: NpmStart;
    let gateway: string;

    beforeAll(async () => {
      ({ run, gateway } = await started());
    }, 150_000);

    it('serves, and a second npm start on the same data folder refuses and says where the first runs', async () => {
      expect((await adminToken(gateway)).status).toBe(200);
      const before = run.lock();
      const second = await npmStartOnce(dataDir, env);
      expect(second.code).toBe(1);
      expect(second.output).toContain('npm start is already running on this data folder');
      expect(second.output).toContain(`pid ${before.pid}`);
      expect(second.output).toContain(`gateway ${gateway}`);
      // Nothing of the first was touched.
      expect(run.lock()).toEqual(before);
      expect(Object.values(before.processes).every((p) => isAlive(p.pid))).toBe(true);
      expect((await adminToken(gateway)).status).toBe(200);
    }, 60_000);

    it('restarts a service killed with kill -9 while the others keep serving', async () => {
      const before = run.lock().processes;
      const victim = before['token-broker'];
      // The others are watched the whole time: their health endpoints must keep answering 200.
      let watching = true;
      const others = ['gateway', 'provider-registry', 'worker'];
      const failures: string[] = [];
      const watcher = (async () => {
        while (watching) {
          for (const name of others) {
            const status = await healthStatus(before[name].port);
            if (status !== 200) failures.push(`${name}: ${status}`);
          }
          await sleep(200);
        }
      })();

      process.kill(victim.pid, 'SIGKILL');
      await run.waitFor(
        new RegExp(
          `token-broker \\(pid ${victim.pid}\\) exited unexpectedly \\(SIGKILL\\): restarting it in 1 s`,
        ),
        10_000,
      );
      await run.waitFor(/token-broker restarted \(pid (\d+)\)/, 15_000);
      await until(
        async () => (await adminToken(gateway)).status === 200,
        30_000,
        'a token through the restarted token-broker',
      );
      watching = false;
      await watcher;

      const after = run.lock().processes;
      expect(after['token-broker'].pid).not.toBe(victim.pid);
      expect(await healthStatus(after['token-broker'].port)).toBe(200);
      for (const name of [...others, 'demo-idp']) expect(after[name].pid).toBe(before[name].pid);
      expect(failures).toEqual([]);
    }, 90_000);

    it('restarts a Redis killed with kill -9, and the services recover without being restarted', async () => {
      const services = run.lock().processes;
      const redis = run.redisPid();
      expect(redis).not.toBeNull();
      process.kill(redis as number, 'SIGKILL');
      await run.waitFor(new RegExp(`redis-server \\(pid ${redis}\\) is gone: restarting it`), 10_000);
      await run.waitFor(/redis-server restarted \(pid \d+\)/, 20_000);
      expect(run.redisPid()).not.toBe(redis);

      let token: string | undefined;
      await until(
        async () => {
          const res = await adminToken(gateway);
          token = res.token;
          return res.status === 200;
        },
        30_000,
        'a token after the Redis restart',
      );
      await until(
        async () => (await providers(gateway, token as string)) === 200,
        30_000,
        'the providers list after the Redis restart',
      );
      // The worker's queues reconnected too: a STATS job runs to completion.
      const created = await fetch(`${gateway}/api/v2/externalOAuth/jobs/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'STATS' }),
      });
      expect(created.status).toBe(202);
      const { location } = (await created.json()) as { location: string };
      await until(
        async () =>
          (
            (await (
              await fetch(`${gateway}${location}`, { headers: { authorization: `Bearer ${token}` } })
            ).json()) as { status?: string }
          ).status === 'COMPLETED',
        20_000,
        'a STATS job completed by the worker after the Redis restart',
      );
      // Recovered by reconnecting, not by being restarted.
      expect(run.lock().processes).toEqual(services);
    }, 90_000);

    it('stops every process it started, checked by pid, when npm gets SIGTERM, and says what it stopped', async () => {
      const pids = run.allPids();
      const lock = run.lock();
      expect(pids.length).toBeGreaterThanOrEqual(9); // npm, runner, 4 services, demo-idp, redis, postgres (+ backends)
      const t0 = Date.now();
      process.kill(run.npmPid, 'SIGTERM');
      expect(await allGone(pids, 15_000)).toBe(true);
      const took = Date.now() - t0;
      const stopped = (await run.waitFor(/stopped (gateway[^\n]*)/, 5_000))[1];
      for (const [name, p] of Object.entries(lock.processes))
        expect(stopped).toContain(`${name} (pid ${p.pid})`);
      expect(stopped).toMatch(/redis-server \(pid \d+\)/);
      expect(stopped).toMatch(/postgres \(pid \d+\)/);
      expect(run.lockExists()).toBe(false);
      // Every service drained by itself: none needed the SIGKILL that comes after 10 s.
      expect(
        run.text
          .split('\n')
          .filter((l) => l.startsWith('[start]'))
          .slice(-3),
      ).not.toContainEqual(expect.stringMatching(/did not stop within/));
      expect(took).toBeLessThan(8_000);
    }, 60_000);
  });

  it('stops everything when its npm is killed with SIGKILL (the supervisor watches its parent)', async () => {
    const { run } = await started();
    const pids = run.allPids().filter((pid) => pid !== run.npmPid);
    process.kill(run.npmPid, 'SIGKILL');
    expect(await allGone(pids, 20_000)).toBe(true);
    expect(run.text).toMatch(/the parent process \(pid \d+, npm\) is gone: stopping everything/);
    expect(run.lockExists()).toBe(false);
  }, 150_000);

  it('stops everything on SIGINT to the supervisor itself, and the data survives for the next start', async () => {
    const { run, gateway } = await started();
    // What the previous runs created is still there: the demo provider registered once, by name.
    const { token } = await adminToken(gateway);
    const list = (await (
      await fetch(`${gateway}/api/v2/externalOAuth/providers/?types=oidc`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { data: unknown[] };
    expect(list.data).toHaveLength(1);
    const pids = run.allPids();
    process.kill(run.lock().pid, 'SIGINT');
    expect(await allGone(pids, 20_000)).toBe(true);
    expect(run.text).toContain('SIGINT: stopping everything');
    expect(run.lockExists()).toBe(false);
  }, 150_000);

  it('takes over the lock of a supervisor that was killed with SIGKILL and stops what it left running', async () => {
    const { run } = await started();
    const lock = run.lock();
    const left = Object.values(lock.processes).map((p) => p.pid);
    process.kill(lock.pid, 'SIGKILL'); // nothing can catch this: the services are left running
    await sleep(500);
    expect(left.every(isAlive)).toBe(true);
    const next = new NpmStart(dataDir, env).start();
    runs.push(next);
    await next.ready();
    expect(next.text).toMatch(
      new RegExp(
        `the previous npm start \\(pid ${lock.pid}\\) ended without stopping; stopping what it left running: `,
      ),
    );
    expect(left.some(isAlive)).toBe(false);
    const pids = next.allPids();
    process.kill(next.npmPid, 'SIGTERM');
    expect(await allGone(pids, 20_000)).toBe(true);
    run.killAll();
  }, 200_000);
});
