import { createTestDatabase, TestDatabase, sleep } from '@broker/testing';
import { ServiceProcess, freePort, systemEnv } from './service-processes';

const DRAIN_S = 2;

// SIGTERM with SHUTDOWN_DRAIN_SECONDS: readiness fails at once ("draining"), the listener keeps
// serving for the drain period (a load balancer's probe takes the replica out first), then the
// process closes and exits 0. Without the drain, the listener closed at the signal while readiness
// still said 200: a load balancer kept sending to a closed port.
describe('a service drains on SIGTERM before it stops listening', () => {
  let db: TestDatabase;
  let gateway: ServiceProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('shutdown_drain');
  });
  afterAll(async () => {
    await gateway?.kill();
    await db?.drop();
  });

  it('answers 503 draining on /health/ready, keeps serving for the drain period, then exits 0', async () => {
    const port = await freePort();
    gateway = new ServiceProcess(
      'gateway',
      port,
      systemEnv(db.url, port, 'drain', { SHUTDOWN_DRAIN_SECONDS: String(DRAIN_S) }),
    ).start();
    await gateway.ready();
    const signalled = Date.now();
    const exited = gateway.stop(20_000);
    await sleep(300);
    const ready = await fetch(`${gateway.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({
      status: 'unavailable',
      service: 'gateway',
      failing: ['draining'],
    });
    // Still serving: liveness and the API answer during the drain.
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/api/v2/externalOAuth/providers/`)).status).toBe(401);
    expect(await exited).toBe(0);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(DRAIN_S * 1000);
    await expect(fetch(`${gateway.url}/health/live`)).rejects.toThrow();
    expect(gateway.output.join('')).toContain(`SIGTERM received: draining for ${DRAIN_S} s`);
  });
});
