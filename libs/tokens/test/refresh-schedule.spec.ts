import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import type { OAuthProvider } from '@broker/contracts';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { resolveProvider, type ResolvedProvider } from '@broker/provider-adapters';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, sleep, TestDatabase } from '@broker/testing';
import {
  AuthorizationsService,
  DEFAULT_TOKEN_PATH_OPTIONS,
  ProviderAccess,
  RefreshSchedule,
  RefreshSweeper,
  SweepOptions,
  TOKENS_SCHEMA,
  TokenPath,
  UsageTracker,
} from '../src';

const DAY = 86_400_000;
const OAUTH2 = '11111111-1111-4111-8111-111111111111';
const BOX = '22222222-2222-4222-8222-222222222222';

/** A token endpoint on loopback: rotates refresh tokens, counts refreshes per user, can fail on demand. */
class TokenEndpoint {
  readonly calls = new Map<string, number>();
  answer: (user: string) => { status: number; body: Record<string, unknown> } | null = () => null;
  inFlight = 0;
  maxInFlight = 0;
  holdMs = 0;
  private server?: Server;
  url = '';

  get total(): number {
    return [...this.calls.values()].reduce((a, b) => a + b, 0);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', async () => {
        const user = (new URLSearchParams(body).get('refresh_token') ?? '').split('.')[1] ?? '?';
        this.calls.set(user, (this.calls.get(user) ?? 0) + 1);
        this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
        await sleep(this.holdMs);
        this.inFlight--;
        const scripted = this.answer(user);
        const n = this.calls.get(user);
        const answer = scripted ?? {
          status: 200,
          body: {
            access_token: `at.${user}.${n}`,
            refresh_token: `rt.${user}.${n}`,
            token_type: 'Bearer',
            expires_in: 3600,
          },
        };
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describe('refresh schedule on PostgreSQL (refresh ahead what is used, keep alive what is idle)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const endpoint = new TokenEndpoint();
  const cipher = new EnvelopeCipher(parseKeyring(`k1:${randomKey().toString('base64')}`));
  let authorizations: AuthorizationsService;
  let schedule: RefreshSchedule;
  let usage: UsageTracker;
  let path: TokenPath;
  let access: ProviderAccess;
  const sweepOptions: SweepOptions = {
    batch: 50,
    lookaheadMs: 0,
    holdMs: 60_000,
    budgetMs: 20_000,
    concurrency: 8,
  };
  const sweeper = (gate = { run: <T>(_p: string, fn: () => Promise<T>) => fn() }) =>
    new RefreshSweeper(schedule, path, access, gate);

  /** A linked account whose token set was written `ageSeconds` ago (as at its due time) and lives another `expiresInSeconds`. */
  async function link(user: string, providerId = OAUTH2, expiresInSeconds = 3600, ageSeconds = 3000) {
    const a = await authorizations.store('org', {
      providerId,
      userId: user,
      oauthClientId: 'client',
      scopes: ['read'],
      tokens: {
        accessToken: `at.${user}.0`,
        refreshToken: `rt.${user}.0`,
        expiresAt: new Date(Date.now() + expiresInSeconds * 1000),
      },
    });
    await ds.query(
      `UPDATE tokens.credentials SET updated_at = updated_at - ($2::int * interval '1 second'), created_at = created_at - ($2::int * interval '1 second') WHERE authorization_id = $1`,
      [a.id, ageSeconds],
    );
    return a;
  }
  const row = async (authorizationId: string) =>
    (
      (await ds.query(
        `SELECT c.refresh_due_at, c.expires_at, c.updated_at, c.generation, a.last_used_at, a.status FROM tokens.credentials c JOIN tokens.authorizations a ON a.id = c.authorization_id WHERE a.id = $1`,
        [authorizationId],
      )) as {
        refresh_due_at: Date | null;
        expires_at: Date;
        updated_at: Date;
        generation: number;
        last_used_at: Date | null;
        status: string;
      }[]
    )[0];
  /** Moves the clock of a row: its due time into the past (and, for keep-alive, its last refresh back). */
  const makeDue = (authorizationId: string) =>
    ds.query(
      `UPDATE tokens.credentials SET refresh_due_at = now() - interval '1 second' WHERE authorization_id = $1`,
      [authorizationId],
    );
  const idle = (authorizationId: string) =>
    ds.query(`UPDATE tokens.authorizations SET last_used_at = NULL WHERE id = $1`, [authorizationId]);

  beforeAll(async () => {
    db = await createTestDatabase('refresh-schedule');
    ds = await new DataSource(domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'tokens-test')).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
    authorizations = new AuthorizationsService(ds, cipher);
    schedule = new RefreshSchedule(ds);
    usage = new UsageTracker(ds, 0);
    await endpoint.start();
    const port = Number(new URL(endpoint.url).port);
    const oauth2 = resolveProvider(
      'oauth2',
      { endpoints: { authorizationUrl: `${endpoint.url}/authorize`, tokenUrl: `${endpoint.url}/token` } },
      { allowLoopback: true, allowedPorts: [port] },
    );
    // Box's idle window (60 days) on the same endpoint: only the type decides the window.
    const box: ResolvedProvider = { ...oauth2, type: 'box' };
    access = async (_org, providerId) => ({
      provider: { status: 'active', clientId: 'client' } as OAuthProvider,
      resolved: providerId === BOX ? box : oauth2,
      clientSecret: 'secret',
    });
    path = new TokenPath(
      ds,
      cipher,
      access,
      fetch,
      () => undefined,
      { ...DEFAULT_TOKEN_PATH_OPTIONS, memoryTtlMs: 0 },
      (id, key) => usage.record(id, key),
    );
  });

  afterAll(async () => {
    await endpoint.stop();
    await ds?.destroy();
    await db?.drop();
  });

  beforeEach(async () => {
    endpoint.calls.clear();
    endpoint.answer = () => null;
    endpoint.holdMs = 0;
    endpoint.maxInFlight = 0;
    // Nothing of an earlier test is due.
    await ds.query(`UPDATE tokens.credentials SET refresh_due_at = NULL`);
  });

  it('plans a linked account’s first refresh ahead of expiry, in the same write', async () => {
    const a = await link('ada', OAUTH2, 3600, 0);
    const r = await row(a.id);
    const margin = r.expires_at.getTime() - (r.refresh_due_at as Date).getTime();
    expect(margin).toBeGreaterThanOrEqual(600_000);
    expect(margin).toBeLessThanOrEqual(660_000);
    expect(r.last_used_at).not.toBeNull(); // linking counts as use
  });

  it('refreshes a used token set ahead once, and plans the new one ahead again', async () => {
    const a = await link('babbage');
    await makeDue(a.id);
    const report = await sweeper().sweep(sweepOptions);
    expect(report).toMatchObject({ claimed: 1, refreshedInUse: 1, refreshedKeepAlive: 0 });
    expect(endpoint.calls.get('babbage')).toBe(1);
    const r = await row(a.id);
    expect(r.generation).toBe(2);
    expect(r.expires_at.getTime() - (r.refresh_due_at as Date).getTime()).toBeGreaterThanOrEqual(600_000);
    // Nothing else is due: a second sweep claims nothing and calls no one.
    expect(await sweeper().sweep(sweepOptions)).toMatchObject({ claimed: 0 });
    expect(endpoint.total).toBe(1);
  });

  it('does not refresh an idle token set: moves it to its provider’s keep-alive time, then keeps the grant alive with one refresh', async () => {
    const a = await link('curie');
    const b = await link('dirac', BOX);
    await idle(a.id);
    await idle(b.id);
    await makeDue(a.id);
    await makeDue(b.id);
    expect(await sweeper().sweep(sweepOptions)).toMatchObject({
      claimed: 2,
      deferred: 2,
      refreshedInUse: 0,
      refreshedKeepAlive: 0,
    });
    expect(endpoint.total).toBe(0);
    const due = async (id: string) => ((await row(id)).refresh_due_at as Date).getTime() - Date.now();
    // Generic OAuth 2.0: ¾ of 14 days; Box: ¾ of 60 days, from the last refresh (here: the link).
    // (the link was 3 000 s ago)
    expect(Math.abs((await due(a.id)) - (10.5 * DAY - 3_000_000))).toBeLessThan(60_000);
    expect(Math.abs((await due(b.id)) - (45 * DAY - 3_000_000))).toBeLessThan(60_000);
    // Eleven days later nobody has used curie's: one refresh keeps the grant alive.
    await ds.query(
      `UPDATE tokens.credentials SET created_at = now() - interval '11 days' WHERE authorization_id = $1`,
      [a.id],
    );
    await makeDue(a.id);
    expect(await sweeper().sweep(sweepOptions)).toMatchObject({ claimed: 1, refreshedKeepAlive: 1 });
    expect(endpoint.calls.get('curie')).toBe(1);
    // Its new token set is not used either: at its refresh-ahead time it is deferred again, a window later.
    await ds.query(
      `UPDATE tokens.credentials SET updated_at = updated_at - interval '50 minutes' WHERE authorization_id = $1`,
      [a.id],
    );
    await makeDue(a.id);
    expect(await sweeper().sweep(sweepOptions)).toMatchObject({ claimed: 1, deferred: 1 });
    expect(Math.abs((await due(a.id)) - 10.5 * DAY)).toBeLessThan(60_000);
    expect(endpoint.calls.get('curie')).toBe(1);
  });

  it('records use in batches, once per token set, and pulls an idle token set forward to its refresh-ahead time', async () => {
    const a = await link('euler');
    await idle(a.id);
    await makeDue(a.id);
    await sweeper().sweep(sweepOptions); // deferred to keep-alive, days away
    expect(((await row(a.id)).refresh_due_at as Date).getTime()).toBeGreaterThan(Date.now() + DAY);
    for (let i = 0; i < 5; i++) await path.acquire('org', a.id);
    expect((await row(a.id)).last_used_at).toBeNull(); // nothing written on the hot path
    await usage.flush();
    const r = await row(a.id);
    expect(r.last_used_at).not.toBeNull();
    // a fifth of its lifetime (written 3 000 s before, expiring 3 600 s after the link) before expiry
    expect(r.expires_at.getTime() - (r.refresh_due_at as Date).getTime()).toBeCloseTo(600_000, -3);
    // The same token set served again is not written again.
    await ds.query(
      `UPDATE tokens.authorizations SET last_used_at = now() - interval '1 minute' WHERE id = $1`,
      [a.id],
    );
    const before = (await row(a.id)).last_used_at;
    await path.acquire('org', a.id);
    await usage.flush();
    expect((await row(a.id)).last_used_at).toEqual(before);
    // In use now: at its due time it is refreshed ahead.
    await makeDue(a.id);
    expect(await sweeper().sweep(sweepOptions)).toMatchObject({ refreshedInUse: 1 });
  });

  it('two sweeps at once (two workers) refresh each due row exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await link(`twin${i}`)).id);
    await ds.query(
      `UPDATE tokens.credentials SET refresh_due_at = now() - interval '1 second' WHERE authorization_id = ANY($1::uuid[])`,
      [ids],
    );
    endpoint.holdMs = 20;
    const small = { ...sweepOptions, batch: 5 };
    const [r1, r2] = await Promise.all([sweeper().sweep(small), sweeper().sweep(small)]);
    expect(r1.refreshedInUse + r2.refreshedInUse).toBe(40);
    expect(r1.refreshedInUse).toBeGreaterThan(0);
    expect(r2.refreshedInUse).toBeGreaterThan(0);
    for (let i = 0; i < 40; i++) expect(endpoint.calls.get(`twin${i}`)).toBe(1);
  });

  it('a refresh that fails transiently stays on the schedule and is retried later; a dead grant leaves it', async () => {
    const flaky = await link('fermi');
    const dead = await link('gauss');
    await makeDue(flaky.id);
    await makeDue(dead.id);
    endpoint.answer = (user) =>
      user === 'fermi'
        ? { status: 503, body: { error: 'temporarily_unavailable' } }
        : { status: 400, body: { error: 'invalid_grant' } };
    const report = await sweeper().sweep(sweepOptions);
    expect(report).toMatchObject({ failed: 1, dropped: 1, refreshedInUse: 0 });
    const f = await row(flaky.id);
    expect(f.status).toBe('active');
    expect((f.refresh_due_at as Date).getTime() - Date.now()).toBeGreaterThan(20_000);
    expect((f.refresh_due_at as Date).getTime() - Date.now()).toBeLessThan(40_000);
    const d = await row(dead.id);
    expect(d.status).toBe('expired');
    expect(d.refresh_due_at).toBeNull();
  });

  it('a sweep asked to stop hands its unprocessed rows back at their own due time', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await link(`hopper${i}`)).id);
    await ds.query(
      `UPDATE tokens.credentials SET refresh_due_at = now() - interval '5 seconds' WHERE authorization_id = ANY($1::uuid[])`,
      [ids],
    );
    let stop = false;
    const gate = {
      run: async <T>(_p: string, fn: () => Promise<T>) => {
        const out = await fn();
        stop = true; // the worker is asked to shut down after the first refresh
        return out;
      },
    };
    const report = await sweeper(gate).sweep({ ...sweepOptions, concurrency: 1 }, () => stop);
    expect(report.refreshedInUse).toBe(1);
    expect(report.released).toBe(5);
    const dues = (await ds.query(
      `SELECT refresh_due_at FROM tokens.credentials WHERE authorization_id = ANY($1::uuid[]) AND generation = 1`,
      [ids],
    )) as { refresh_due_at: Date }[];
    expect(dues).toHaveLength(5);
    for (const d of dues) expect(d.refresh_due_at.getTime()).toBeLessThan(Date.now());
  });

  it('acts only on what PostgreSQL says: a token set rewritten since it was claimed is left alone', async () => {
    const a = await link('hilbert');
    await makeDue(a.id);
    const [claim] = await schedule.claim(10, 0, 60_000);
    expect(claim.authorizationId).toBe(a.id);
    // A caller refreshes first: it needs more life than is left.
    await path.acquire('org', a.id, 3650);
    expect(endpoint.calls.get('hilbert')).toBe(1);
    expect(await path.refreshDue('org', a.id, claim.generation)).toBe('elsewhere');
    expect(endpoint.calls.get('hilbert')).toBe(1);
  });

  it('limits each provider through the gate: never more calls in flight than it allows', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await link(`lamport${i}`)).id);
    await ds.query(
      `UPDATE tokens.credentials SET refresh_due_at = now() - interval '1 second' WHERE authorization_id = ANY($1::uuid[])`,
      [ids],
    );
    endpoint.holdMs = 30;
    let active = 0;
    const waiting: (() => void)[] = [];
    const gate = {
      run: async <T>(_p: string, fn: () => Promise<T>) => {
        if (active >= 2) await new Promise<void>((r) => waiting.push(r));
        else active++;
        try {
          return await fn();
        } finally {
          const next = waiting.shift();
          if (next) next();
          else active--;
        }
      },
    };
    const report = await sweeper(gate).sweep({ ...sweepOptions, concurrency: 12 });
    expect(report.refreshedInUse).toBe(12);
    expect(endpoint.maxInFlight).toBe(2);
  });
});
