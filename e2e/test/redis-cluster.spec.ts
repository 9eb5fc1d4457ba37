import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import type { AcquiredToken } from '@broker/contracts';
import { createRedisConnection } from '@broker/bus-protocol';
import { sleep } from '@broker/testing';
import { ClusterUser, LocalRedisCluster } from './redis-cluster';
import { busClientFor, freePort } from './service-processes';
import { SetupsSystem, WebhookReceiver } from './setups-system';

const ACL_SCRIPT = join(__dirname, '..', '..', 'scripts', 'lib', 'redis-acl.mjs');
const APPS = ['gateway', 'provider-registry', 'token-broker', 'worker'];
type Payload = { type: string; data: Record<string, string | null> };

/**
 * The whole system on a real Redis Cluster (three masters started here): every service connects
 * with `redis+cluster://` as its own ACL user (the rules of scripts/lib/redis-acl.mjs, created on
 * every node), under a hash-tagged BUS_PREFIX. Consent, a token over REST and over the bus, a
 * refresh storm, a provider deletion job and webhook deliveries all go through the cluster.
 */
describe('the system on a Redis Cluster', () => {
  const prefix = `{cl-${randomBytes(3).toString('hex')}}`;
  const cluster = new LocalRedisCluster();
  let receiver: WebhookReceiver;
  let sys: SetupsSystem;
  let admin: Cluster;
  let authorizationId: string;

  const hooks = async (path: string) =>
    (await (await fetch(`${sys.idp.issuer}/__test/${path}`)).json()) as Record<string, number>;
  const consumed = async () => (await hooks('events'))['refresh_token.consumed'] ?? 0;
  const webhookTypes = () => receiver.received.map((r) => (JSON.parse(r.body) as Payload).type);

  beforeAll(async () => {
    await cluster.start();
    const rules = new Map(
      (
        JSON.parse(
          execFileSync(process.execPath, [ACL_SCRIPT, '--prefix', prefix, '--json'], { encoding: 'utf8' }),
        ) as { user: string; rules: string[] }[]
      ).map((u) => [u.user, u.rules]),
    );
    const users: ClusterUser[] = APPS.map((app) => ({
      name: app,
      password: randomBytes(16).toString('hex'),
      rules: rules.get(app) ?? [],
    }));
    await cluster.addUsers(users);
    receiver = new WebhookReceiver(await freePort());
    await receiver.start();
    sys = new SetupsSystem(
      'cluster',
      {
        REDIS_URL: cluster.url(),
        BUS_PREFIX: prefix,
        // Each service as its own ACL user (envForApp gives each app its own REDIS_URL).
        ...Object.fromEntries(users.map((u) => [`REDIS_URL__${u.name.replace(/-/g, '_')}`, cluster.url(u)])),
      },
      // Two-minute tokens: the worker's refresh-ahead stays out of the storm's exact count.
      { DEMO_IDP_ACCESS_TOKEN_TTL: '120', DEMO_IDP_TEST_HOOKS: '1' },
      [receiver.port],
    );
    await sys.start();
    admin = createRedisConnection(cluster.url(), 'e2e-cluster-admin') as unknown as Cluster;
  }, 120_000);

  afterAll(async () => {
    admin?.disconnect();
    await sys?.stop();
    await receiver?.stop();
    await cluster.stop();
  }, 60_000);

  it('runs the consent flow and serves the token over REST and over the bus', async () => {
    const endpoint = await sys.api('/api/v2/webhook-endpoints', sys.admin, {
      method: 'POST',
      body: { url: receiver.url, description: 'cluster' },
    });
    expect(endpoint.status).toBe(201);

    authorizationId = await sys.linkAccount(sys.ada, sys.deploymentId, 'ada@example.test');
    const rest = await sys.api(
      `/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`,
      sys.ada,
      { method: 'POST' },
    );
    expect(rest.status).toBe(201);
    const restToken = ((await rest.json()) as { accessToken: string }).accessToken;
    const bus = (await sys.bus.request(
      'tokens.acquire',
      { authorizationId, minValiditySeconds: 5 },
      { auth: sys.admin, timeoutMs: 15_000 },
    )) as AcquiredToken;
    expect(bus.accessToken).toBe(restToken);

    // The deployment's keys are in the cluster, all in the one slot of the prefix's hash tag.
    const keys = await cluster.keys(`${prefix}*`);
    expect(keys.some((k) => k.startsWith(`${prefix}:jobs:`))).toBe(true);
    const slots = new Set(await Promise.all(keys.map((k) => admin.cluster('KEYSLOT', k))));
    expect(slots.size).toBe(1);
    // Every service is connected to the nodes as its own ACL user.
    const connected = new Set(await cluster.clientUsers());
    for (const app of APPS) expect({ app, connected: connected.has(app) }).toEqual({ app, connected: true });
  }, 60_000);

  it('a refresh storm over two bus clients: one refresh at the provider, every caller gets the new token', async () => {
    // A token is served as long as it has its lifetime less 5 s left: let it age past that.
    await sleep(6_000);
    const before = await consumed();
    const callers = [busClientFor(sys.env, 'storm-a'), busClientFor(sys.env, 'storm-b')];
    await Promise.all(callers.map((c) => c.connect()));
    try {
      // Asking for more validity than the two-minute token has left forces the refresh.
      const results = (await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          callers[i % 2].request(
            'tokens.acquire',
            { authorizationId, minValiditySeconds: 150 },
            { auth: sys.admin, timeoutMs: 20_000 },
          ),
        ),
      )) as AcquiredToken[];
      expect(await consumed()).toBe(before + 1);
      expect(new Set(results.map((r) => r.accessToken)).size).toBe(1);
    } finally {
      await Promise.all(callers.map((c) => c.close()));
    }
  }, 60_000);

  it('deletes the provider in a background job that revokes the authorization, and delivers the webhooks', async () => {
    const res = await sys.api(`/api/v2/externalOAuth/providers/${sys.deploymentId}/`, sys.admin, {
      method: 'DELETE',
    });
    expect(res.status).toBe(202);
    const { location } = (await res.json()) as { location: string };
    let job: { status?: string; details?: { name: string; value: string }[] } = {};
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
      job = (await (await sys.api(location, sys.admin)).json()) as typeof job;
      if (job.status === 'COMPLETED' || job.status === 'ERROR') break;
    }
    expect(job.status).toBe('COMPLETED');
    expect(job.details?.find((d) => d.name === 'authorization_ids')?.value).toBe(authorizationId);
    const gone = await sys.api(
      `/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`,
      sys.ada,
      { method: 'POST' },
    );
    expect(gone.status).toBeGreaterThanOrEqual(400);

    // Events went over the cluster's pub/sub to the worker, and out through its webhook queue.
    await receiver.waitFor(
      () => ['authorization.created', 'authorization.revoked'].every((t) => webhookTypes().includes(t)),
      30_000,
    );
    await sleep(1_000); // time for a duplicate to show up
    for (const t of ['authorization.created', 'authorization.revoked'])
      expect({ t, n: webhookTypes().filter((x) => x === t).length }).toEqual({ t, n: 1 });
    const revoked = receiver.received
      .map((r) => JSON.parse(r.body) as Payload)
      .find((p) => p.type === 'authorization.revoked');
    expect(revoked?.data).toMatchObject({ authorization_id: authorizationId });
  }, 60_000);

  it('logged no Redis error: no CROSSSLOT, no NOPERM, no MOVED left unfollowed', () => {
    expect(sys.logs()).not.toMatch(/CROSSSLOT|NOPERM|MOVED|ClusterAllFailedError/);
  });
});
