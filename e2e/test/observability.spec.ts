import type { AcquiredToken } from '@broker/contracts';
import { createRedisConnection } from '@broker/bus';
import { METRIC_SOURCES } from '@broker/service-runtime';
import { sleep, testRedisUrl } from '@broker/testing';
import { BrokerSystem } from './broker-system';
import { OtlpReceiver, ReceivedSpan } from './otlp-receiver';
import { ServiceProcess, freePort } from './service-processes';

const SERVER = 2;
const CLIENT = 3;
const APPS = ['gateway', 'token-broker', 'provider-registry', 'worker'] as const;
type App = (typeof APPS)[number];

/** The value of one sample of a Prometheus text exposition (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const set = open >= 0 && open < line.indexOf(' ') ? line.slice(open + 1, line.lastIndexOf('}')) : '';
    const have = Object.fromEntries(
      [...set.matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v))
      return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/**
 * Issue 16's "Done when" for metrics and traces, on a running stack (four services as processes,
 * oidc-provider as the external provider, a tiny OTLP receiver in the test): `/metrics` of each
 * service shows its counters moving during a flow (consent, REST acquires, a refresh at the
 * provider), and one trace id crosses gateway → bus → token-broker → provider call and is in each
 * service's log line for that request.
 */
describe('metrics and traces', () => {
  const receiver = new OtlpReceiver();
  const metricsPorts = {} as Record<App, number>;
  let system: BrokerSystem;
  let worker: ServiceProcess;
  let admin: string;
  let alice: string;
  let providerId: string;
  let authorizationId: string;

  const scrape = async (app: App): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${metricsPorts[app]}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const acquire = (minValiditySeconds: number) =>
    system.api('/api/v2/externalOAuth/tokens/', alice, {
      method: 'POST',
      body: { authorizationId, minValiditySeconds },
    });

  beforeAll(async () => {
    await receiver.start();
    for (const app of APPS) metricsPorts[app] = await freePort();
    system = new BrokerSystem({
      label: 'observability',
      providerClient: true,
      idpEnv: { DEMO_IDP_ACCESS_TOKEN_TTL: '20', DEMO_IDP_TEST_HOOKS: '1' },
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // The bus handlers' per-request line is a debug one.
        LOG_LEVEL: 'debug',
        METRICS_COUNT_INTERVAL_SECONDS: '1',
        // The refresh in this flow is the token-broker's: the worker's sweep must not refresh ahead first.
        REFRESH_SWEEP_SECONDS__worker: '3600',
        // Each process its own metrics port (NAME__app: that app's value).
        ...Object.fromEntries(
          APPS.map((app) => [`METRICS_PORT__${app.replace(/-/g, '_')}`, String(metricsPorts[app])]),
        ),
      },
    });
    await system.start();
    worker = new ServiceProcess('worker', await freePort(), system.env).start();
    await worker.ready();
    admin = await system.adminToken();
    providerId = await system.registerDemoProvider(admin);
    await system.users.upsert('default', { sub: 'alice', email: 'alice@example.test' }, [
      'tokens:read',
      'authorizations:read',
    ]);
    alice = await system.delegatedToken(admin, 'alice', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await system?.stop();
    await receiver.stop();
  });

  it('serves /metrics on its own port only: never on the API port, nothing else on the metrics port', async () => {
    expect((await fetch(`${system.gateways[0].url}/metrics`)).status).toBe(404);
    expect((await fetch(`${system.registry.url}/metrics`)).status).toBe(404);
    const other = await fetch(`http://127.0.0.1:${metricsPorts.gateway}/health/ready`);
    expect(other.status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${metricsPorts.gateway}/metrics`, { method: 'POST' });
    expect(post.status).toBe(404);
    const texts = Object.fromEntries(
      await Promise.all(APPS.map(async (app) => [app, await scrape(app)] as const)),
    ) as Record<App, string>;
    for (const app of APPS) expect(sample(texts[app], 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    // Every metric of the catalogue (what the alert rules and the dashboard may use) is exported where it says.
    const missing = Object.entries(METRIC_SOURCES).flatMap(([name, apps]) =>
      apps.filter((app) => !texts[app].includes(`# TYPE ${name} `)).map((app) => `${app}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  it('shows the counters moving during a flow, and one trace id from the gateway over the bus to the provider call, in every log line of it', async () => {
    const before = Object.fromEntries(
      await Promise.all(APPS.map(async (app) => [app, await scrape(app)] as const)),
    ) as Record<App, string>;

    // The flow: consent at the provider, a served token, then a refresh (20-second tokens, aged past a 30-second need).
    authorizationId = await system.linkAccount(alice, providerId, 'alice@example.test');
    const first = await acquire(5);
    expect(first.status).toBe(200);
    await sleep(6_000);
    const monitor = createRedisConnection(testRedisUrl(), 'e2e:monitor');
    const commands: string[] = [];
    const feed = await monitor.monitor();
    feed.on('monitor', (_time: string, args: string[]) => commands.push(args.join(' ')));
    const refreshed = await acquire(30);
    expect(refreshed.status).toBe(200);
    const token = (await refreshed.json()) as AcquiredToken;
    expect(token.accessToken).not.toBe(((await first.json()) as AcquiredToken).accessToken);
    feed.disconnect();
    monitor.disconnect();

    const after = Object.fromEntries(
      await Promise.all(APPS.map(async (app) => [app, await scrape(app)] as const)),
    ) as Record<App, string>;
    const moved = (app: App, name: string, labels: Record<string, string>) =>
      (sample(after[app], name, labels) ?? 0) - (sample(before[app], name, labels) ?? 0);

    // Gateway: HTTP by route template (not the raw path), and its bus calls by pattern.
    expect(
      moved('gateway', 'broker_http_request_duration_seconds_count', {
        route: '/api/v2/externalOAuth/tokens',
        method: 'POST',
        status: '200',
      }),
    ).toBe(2);
    expect(
      moved('gateway', 'broker_bus_client_request_duration_seconds_count', {
        service: 'token-broker',
        pattern: 'tokens.acquire',
        outcome: 'ok',
      }),
    ).toBe(2);
    expect(after.gateway).not.toContain(authorizationId);
    // Token-broker: bus requests handled, tokens served (from the database, then by a refresh), the refresh by result and provider type.
    expect(
      moved('token-broker', 'broker_bus_server_request_duration_seconds_count', {
        pattern: 'tokens.acquire',
        outcome: 'ok',
      }),
    ).toBe(2);
    expect(moved('token-broker', 'broker_token_acquires_total', { outcome: 'refresh' })).toBe(1);
    expect(
      moved('token-broker', 'broker_token_acquires_total', { outcome: 'database' }) +
        moved('token-broker', 'broker_token_acquires_total', { outcome: 'memory' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      moved('token-broker', 'broker_token_refreshes_total', { result: 'ok', provider_type: 'oidc' }),
    ).toBe(1);
    expect(sample(after['token-broker'], 'broker_bus_server_dropped_total', { reason: 'replayed' })).toBe(0);
    // Provider-registry: the registration and the consent asked it over the bus.
    expect(
      sample(after['provider-registry'], 'broker_bus_server_request_duration_seconds_count', {
        pattern: 'providers.create',
        outcome: 'ok',
      }),
    ).toBe(1);
    // Worker: every queue's depth by state and oldest waiting job, and the periodic counts (every second here).
    for (const queue of ['token-refresh', 'webhook-delivery', 'provider-deletion']) {
      expect(sample(after.worker, 'broker_queue_jobs', { queue, state: 'waiting' })).toEqual(
        expect.any(Number),
      );
      expect(sample(after.worker, 'broker_queue_oldest_waiting_age_seconds', { queue })).toEqual(
        expect.any(Number),
      );
    }
    await BrokerSystem.within(
      10_000,
      async () =>
        sample(await scrape('worker'), 'broker_encrypted_values', { domain: 'tokens', key_id: 'k1' }) === 1,
    );
    const worker = await scrape('worker');
    expect(sample(worker, 'broker_authorizations', { status: 'active' })).toBe(1);
    expect(sample(worker, 'broker_providers', { status: 'active' })).toBe(1);
    expect(sample(worker, 'broker_encrypted_values', { domain: 'tokens', key_id: 'k1' })).toBe(1);
    expect(sample(worker, 'broker_encrypted_values', { domain: 'registry', key_id: 'k1' })).toBe(1);
    expect(sample(worker, 'broker_authorizations_refresh_overdue')).toBe(0);
    // No label carries a token, a user or an authorization.
    for (const app of APPS)
      for (const secret of [token.accessToken, alice, authorizationId, 'alice'])
        expect(after[app]).not.toContain(secret);

    // Traces: the provider call of that refresh, and the whole chain in its trace.
    const isEdge = (s: ReceivedSpan) =>
      s.service === 'gateway' && s.kind === SERVER && s.name === 'POST /api/v2/externalOAuth/tokens';
    const isProviderCall = (s: ReceivedSpan) =>
      s.service === 'token-broker' && s.kind === CLIENT && s.name.startsWith('HTTP POST');
    const refreshTrace = (spans: ReceivedSpan[]) =>
      spans.find((e) => isEdge(e) && spans.some((c) => c.traceId === e.traceId && isProviderCall(c)))
        ?.traceId;
    await waitForSpans(receiver, (spans) => refreshTrace(spans) !== undefined);
    const traceId = refreshTrace(receiver.spans) ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const call = receiver.spans.find((s) => s.traceId === traceId && isProviderCall(s)) as ReceivedSpan;
    expect(call.name).toBe(`HTTP POST ${new URL(system.idp.issuer).origin}`);
    const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
    const edge = inTrace.find((s) => s.service === 'gateway' && s.kind === SERVER);
    const busCall = inTrace.find(
      (s) => s.service === 'gateway' && s.kind === CLIENT && s.name === 'bus tokens.acquire',
    );
    const handled = inTrace.find(
      (s) => s.service === 'token-broker' && s.kind === SERVER && s.name === 'bus tokens.acquire',
    );
    expect(edge?.name).toBe('POST /api/v2/externalOAuth/tokens');
    expect(edge?.parentSpanId).toBeUndefined();
    expect(busCall?.parentSpanId).toBe(edge?.spanId);
    expect(handled?.parentSpanId).toBe(busCall?.spanId);
    expect(descendsFrom(inTrace, call, handled?.spanId ?? '')).toBe(true);

    // The trace id crossed Redis sealed: no command sent during the request carried it in clear.
    expect(commands.length).toBeGreaterThan(0);
    expect(commands.filter((c) => c.includes(traceId))).toEqual([]);

    // Each service's log line for that request carries the trace id.
    const lines = (p: ServiceProcess) =>
      p.output
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await sleep(400); // the logs are written in batches every 250 ms
    const access = lines(system.gateways[0]).find((l) => l['trace_id'] === traceId);
    expect(access).toMatchObject({ msg: 'request completed', res: { statusCode: 200 } });
    const busLine = lines(system.brokers[0]).find(
      (l) => l['trace_id'] === traceId && l['msg'] === 'bus request handled',
    );
    expect(busLine).toMatchObject({ pattern: 'tokens.acquire', outcome: 'ok' });
  }, 150_000);

  it('a forged or malformed traceparent on the bus breaks nothing: the request is served in a trace of its own', async () => {
    for (const traceparent of [
      'garbage',
      '00-00000000000000000000000000000000-0000000000000000-01',
      `00-${'f'.repeat(32)}-${'e'.repeat(16)}-01`,
      'x'.repeat(128),
    ]) {
      const reply = await system.bus.request(
        'tokens.acquire',
        { authorizationId, minValiditySeconds: 5 },
        { auth: alice, timeoutMs: 10_000, traceparent },
      );
      expect(reply.accessToken).toEqual(expect.any(String));
    }
    // Over the schema's bound it is not a request at all: dropped unanswered like any malformed body.
    const tooLong = await system.bus
      .request(
        'tokens.acquire',
        { authorizationId, minValiditySeconds: 5 },
        { auth: alice, timeoutMs: 1_500, traceparent: 'x'.repeat(129) },
      )
      .catch((e: { code?: string }) => e.code);
    expect(tooLong).toBe('TIMEOUT');
  });

  it('a job joins the trace of the request that added it: DELETE provider → bus → provider-registry → job → worker', async () => {
    const res = await system.api(`/api/v2/externalOAuth/providers/${providerId}`, admin, {
      method: 'DELETE',
    });
    expect(res.status).toBe(202);
    const isEdge = (s: ReceivedSpan) =>
      s.service === 'gateway' &&
      s.kind === SERVER &&
      s.name === 'DELETE /api/v2/externalOAuth/providers/:providerId';
    const isJob = (s: ReceivedSpan) =>
      s.service === 'worker' && s.name === 'job provider-deletion DELETE_PROVIDER';
    await waitForSpans(receiver, (spans) =>
      spans.some((e) => isEdge(e) && spans.some((j) => j.traceId === e.traceId && isJob(j))),
    );
    const edge = receiver.spans.find(
      (e) => isEdge(e) && receiver.spans.some((j) => j.traceId === e.traceId && isJob(j)),
    ) as ReceivedSpan;
    const inTrace = receiver.spans.filter((s) => s.traceId === edge.traceId);
    const handled = inTrace.find(
      (s) => s.service === 'provider-registry' && s.kind === SERVER && s.name === 'bus providers.delete',
    ) as ReceivedSpan;
    const job = inTrace.find(isJob) as ReceivedSpan;
    expect(descendsFrom(inTrace, handled, edge.spanId)).toBe(true);
    expect(descendsFrom(inTrace, job, handled.spanId)).toBe(true);
  });
});

/** Waits (at most 10 s: spans are exported every 500 ms) until the received spans satisfy `done`. */
async function waitForSpans(
  receiver: OtlpReceiver,
  done: (spans: ReceivedSpan[]) => boolean,
): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 10_000;
  while (!done(receiver.spans) && Date.now() < deadline) await sleep(200);
  return receiver.spans;
}

/** Whether `span` is `ancestorId` or one of its descendants in `spans`. */
function descendsFrom(spans: ReceivedSpan[], span: ReceivedSpan, ancestorId: string): boolean {
  for (let s: ReceivedSpan | undefined = span; s; s = spans.find((p) => p.spanId === s?.parentSpanId))
    if (s.spanId === ancestorId) return true;
  return false;
}
