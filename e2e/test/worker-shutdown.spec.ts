import { createServer, Server } from 'node:http';
import { Client } from 'pg';
import { sleep } from '@broker/testing';
import { freePort } from './service-processes';
import { SetupsSystem } from './setups-system';

const HOLD_MS = 6_000;

// A worker told to stop (SIGTERM) while a job runs lets that job finish with everything it uses:
// its BullMQ workers close (waiting for running jobs) before the queues, HTTP agents and database
// pools close. Before, Nest ran those shutdown hooks side by side and a webhook delivery in flight
// at SIGTERM failed ("Connection is closed.", or its pool gone) and was not retried.
describe('a worker stopping mid-job finishes the job first', () => {
  let sys: SetupsSystem;
  let server: Server;
  let pg: Client;
  const arrived: number[] = [];

  beforeAll(async () => {
    const port = await freePort();
    // A receiver that holds each request for HOLD_MS before answering 204.
    server = createServer((req, res) => {
      arrived.push(Date.now());
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(204).end(), HOLD_MS));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    sys = new SetupsSystem('worker_shutdown', { WORKER_CONCURRENCY: 'webhooks=1' }, {}, [port]);
    await sys.start();
    pg = new Client({ connectionString: sys.db.url });
    await pg.connect();
    const endpoint = await sys.api('/api/v2/webhook-endpoints', sys.admin, {
      method: 'POST',
      body: { url: `http://127.0.0.1:${port}/hooks`, description: 'held' },
    });
    expect(endpoint.status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    await pg?.end();
    await sys?.stop();
    await new Promise((resolve) => server?.close(resolve));
  }, 60_000);

  it('SIGTERM during a webhook delivery: it succeeds once, the next job waits untouched, the worker exits 0', async () => {
    await sys.users.upsert('default', {
      sub: 'bob',
      email: 'bob@example.test',
      givenName: 'Bob',
      familyName: 'B',
    });
    const bob = await sys.delegatedToken(sys.admin, 'bob', ['authorizations:read', 'authorizations:write']);
    // Two authorization.created events: two deliveries, run one at a time (concurrency 1).
    await sys.linkAccount(sys.ada, sys.deploymentId, 'ada@example.test');
    await sys.linkAccount(bob, sys.deploymentId, 'bob@example.test');
    for (const until = Date.now() + 30_000; arrived.length === 0 && Date.now() < until; ) await sleep(50);
    expect(arrived.length).toBe(1);
    // The first POST is held at the receiver, the second job waits: stop the worker now.
    expect(await sys.worker.stop(30_000)).toBe(0);
    expect(sys.worker.signal).toBeNull();
    const { rows } = await pg.query<{ status: string; attempts: number }>(
      'SELECT status, attempts FROM registry.webhook_deliveries ORDER BY attempts DESC',
    );
    // The running one delivered; the waiting one left for the next worker, not run against closed
    // connections (before: fetched during shutdown, failed, its retry lost).
    expect(rows).toEqual([
      { status: 'succeeded', attempts: 1 },
      { status: 'pending', attempts: 0 },
    ]);
    expect(arrived.length).toBe(1);
    expect(sys.worker.output.join('')).not.toMatch(/Connection is closed/);
  });
});
