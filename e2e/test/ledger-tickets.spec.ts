import IORedis from 'ioredis';
import type { AcquiredToken } from '@broker/contracts';
import { BrokerSystem } from './broker-system';
import { RequestMonitor, type SeenRequest } from './bus-attack-support';

type Hit = { ticket: string; count: number; firstAt: number; lastAt: number };
type LedgerItems = { items: { path: string; consumer: string; serveCount: number }[] };

/**
 * Ledger tickets (issue 20): a REST serve's sealed reply carries the broker's MAC over the serve's
 * ledger facts, and `tokens.ledger.hits` records the gateway's cache hits from those tickets only.
 * Attacked with what anyone on Redis has — the services' public keys (which any bus caller is
 * given) and a bare Redis connection, no secret: a made-up ticket, an altered one, hits dated
 * outside the ticket's life and a byte-for-byte replay write nothing; genuine hits are searchable
 * through the ledger API within the batch interval.
 */
describe('ledger tickets: only hits of serves the broker made reach the ledger', () => {
  const system = new BrokerSystem({ label: 'ledger-tickets', providerClient: true });
  let admin: string;
  let alice: string;
  let authorizationId: string;
  let redis: IORedis;

  /** The REST serves of alice's authorization in the ledger (every row's count: one token, one consumer). */
  const restCount = async (): Promise<number> => {
    const res = await system.api(`/api/v1/oauth/admin/ledger?authorizationId=${authorizationId}`, admin);
    expect(res.status).toBe(200);
    const page = (await res.json()) as LedgerItems;
    return page.items.filter((i) => i.path === 'rest').reduce((n, i) => n + i.serveCount, 0);
  };
  /** A REST serve as the gateway makes it: over the bus with the caller's token and `channel: 'rest'`. */
  const serve = (): Promise<AcquiredToken> =>
    system.bus.request('tokens.acquire', { authorizationId, channel: 'rest' }, { auth: alice });
  const report = (hits: Hit[]) => system.bus.emitTo('token-broker', 'tokens.ledger.hits', { hits });
  const refusals = () => system.logs().split('ledger hits refused: ').length - 1;
  /** Waits for the broker to log one more refusal, then answers the line's reasons. */
  const refused = async (before: number): Promise<string> => {
    await BrokerSystem.within(5_000, async () => refusals() > before);
    return system.logs().split('ledger hits refused: ')[before + 1]?.split(' (of')[0] ?? '';
  };
  const altered = (ticket: string, change: (claims: Record<string, unknown>) => void): string => {
    const [v, body, mac] = ticket.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    change(claims);
    return `${v}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
  };

  beforeAll(async () => {
    await system.start();
    let providerId: string;
    ({ admin, providerId, alice } = await system.adminAndAlice());
    authorizationId = await system.linkAccount(alice, providerId, 'alice@example.test');
    redis = new IORedis(system.env['REDIS_URL'], { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });

  afterAll(async () => {
    await redis?.quit();
    await system.stop();
  });

  it('a REST serve’s sealed reply carries a ticket; a bus serve’s does not, and no HTTP client ever sees one', async () => {
    const rest = await serve();
    expect(rest.ledgerTicket).toMatch(/^lt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    // Ids and the keyed fingerprint only: the token is not in the ticket.
    expect(Buffer.from(rest.ledgerTicket?.split('.')[1] ?? '', 'base64url').toString()).not.toContain(
      rest.accessToken,
    );
    const bus = await system.bus.request('tokens.acquire', { authorizationId }, { auth: alice });
    expect(bus.ledgerTicket).toBeUndefined();
    for (const [path, body, status] of [
      ['/api/v2/externalOAuth/tokens/', { authorizationId }, 200],
      [`/api/v2/externalOAuth/authorizedProviders/${authorizationId}/token/`, undefined, 201],
    ] as const) {
      const res = await system.api(path, alice, { method: 'POST', ...(body ? { body } : {}) });
      expect(res.status).toBe(status);
      const text = await res.text();
      expect(text).toContain('accessToken');
      expect(text).not.toContain('ledgerTicket');
      expect(text).not.toContain('lt1.');
    }
  });

  it('genuine hits are recorded with the ticket’s facts and found through the ledger API within the batch interval', async () => {
    const { ledgerTicket } = await serve();
    const before = await restCount();
    const at = Date.now();
    await report([{ ticket: String(ledgerTicket), count: 7, firstAt: at, lastAt: at + 5 }]);
    const took = await BrokerSystem.within(5_000, async () => (await restCount()) === before + 7);
    expect(took).toBeLessThan(5_000);
  });

  it('a made-up ticket, an altered one (another org, another authorization) and hits outside its life write nothing', async () => {
    const { ledgerTicket } = await serve();
    const ticket = String(ledgerTicket);
    const before = await restCount();
    const at = Date.now();
    const seen = refusals();
    await report([
      {
        ticket: `lt1.${Buffer.from('{"o":"default"}').toString('base64url')}.${'A'.repeat(43)}`,
        count: 50,
        firstAt: at,
        lastAt: at,
      },
      { ticket: altered(ticket, (c) => (c['o'] = 'rival-org')), count: 50, firstAt: at, lastAt: at },
      {
        ticket: altered(ticket, (c) => (c['z'] = '00000000-0000-4000-8000-000000000000')),
        count: 50,
        firstAt: at,
        lastAt: at,
      },
      // Dated an hour before the serve, and a day after the ticket's end.
      { ticket, count: 50, firstAt: at - 3_600_000, lastAt: at },
      { ticket, count: 50, firstAt: at, lastAt: at + 86_400_000 },
    ]);
    expect(await refused(seen)).toBe('3 bad-mac, 2 bad-times');
    expect(await restCount()).toBe(before);
    // Hostile shapes are refused by the bus's payload check before any handler: nothing recorded either.
    await report([{ ticket, count: -5, firstAt: at, lastAt: at }]);
    await report(Array.from({ length: 501 }, () => ({ ticket, count: 1, firstAt: at, lastAt: at })));
    await report([{ ticket, count: 1, firstAt: at, lastAt: at }]);
    await BrokerSystem.within(5_000, async () => (await restCount()) === before + 1);
    expect(await restCount()).toBe(before + 1);
  });

  it('a byte-for-byte replay of a hits message, taken off Redis, is not acted on', async () => {
    const monitor = new RequestMonitor(system.env['REDIS_URL'], system.env['BUS_PREFIX']);
    await monitor.start();
    try {
      const { ledgerTicket } = await serve();
      const before = await restCount();
      const at = Date.now();
      let captured: SeenRequest | undefined;
      monitor.onRequest((r) => {
        if (r.envelope.p === 'tokens.ledger.hits') captured ??= r;
      });
      await report([{ ticket: String(ledgerTicket), count: 3, firstAt: at, lastAt: at }]);
      await BrokerSystem.within(
        5_000,
        async () => captured !== undefined && (await restCount()) === before + 3,
      );
      const copy = captured as SeenRequest;
      for (let i = 0; i < 3; i++) await redis.rpush(copy.list, copy.raw);
      // A later genuine report is handled after the copies (same list, in order): once it shows,
      // the copies were seen and dropped.
      await report([{ ticket: String(ledgerTicket), count: 1, firstAt: at, lastAt: at + 1 }]);
      await BrokerSystem.within(5_000, async () => (await restCount()) >= before + 4);
      expect(await restCount()).toBe(before + 4);
    } finally {
      monitor.stop();
    }
  });
});
