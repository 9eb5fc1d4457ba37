import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { TokenFingerprinter } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import {
  DEFAULT_TOKEN_LEDGER_OPTIONS,
  LEDGER_TICKET_DELIVERY_GRACE_MS,
  LEDGER_TICKET_MAX_LIFETIME_MS,
  LedgerTickets,
  ServeRecord,
  TOKENS_SCHEMA,
  TicketedServe,
  TokenLedger,
} from '../src';

const AUTHZ = '33333333-3333-4333-8333-333333333333';
const OTHER_AUTHZ = '44444444-4444-4444-8444-444444444444';
const PROVIDER = '11111111-1111-4111-8111-111111111111';

const serve: TicketedServe = {
  orgId: 'acme',
  fingerprint: 'A'.repeat(43),
  consumer: 'web',
  actor: null,
  subject: 'alice',
  authorizationId: AUTHZ,
  providerId: PROVIDER,
  path: 'rest',
  restriction: null,
  attenuated: false,
  expiresAt: null,
};

/** The ticket's body decoded, changed, and put back with the original MAC (what a forger can do). */
function altered(ticket: string, change: (claims: Record<string, unknown>) => void): string {
  const [v, body, mac] = ticket.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(claims);
  return `${v}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
}

describe('LedgerTickets: only the broker can vouch for a serve', () => {
  let now = 1_767_225_600_000;
  const tickets = new LedgerTickets(randomBytes(32), () => now);
  const within = () => ({ firstAt: now, lastAt: now });

  beforeEach(() => {
    now = 1_767_225_600_000;
  });

  it('opens its own ticket to the serve it was issued for', () => {
    const ticket = tickets.issue(serve);
    now += 1000;
    const checked = tickets.check(ticket, within());
    expect(checked).toEqual({
      ok: true,
      claims: { ...serve, issuedAt: now - 1000, notAfter: now - 1000 + LEDGER_TICKET_MAX_LIFETIME_MS },
    });
  });

  it('refuses a ticket altered to name another org or authorization, or made with another key', () => {
    const ticket = tickets.issue(serve);
    expect(
      tickets.check(
        altered(ticket, (c) => (c['o'] = 'rival')),
        within(),
      ),
    ).toEqual({
      ok: false,
      refusal: 'bad-mac',
    });
    expect(
      tickets.check(
        altered(ticket, (c) => (c['z'] = OTHER_AUTHZ)),
        within(),
      ),
    ).toEqual({
      ok: false,
      refusal: 'bad-mac',
    });
    const forger = new LedgerTickets(randomBytes(32), () => now);
    expect(tickets.check(forger.issue(serve), within())).toEqual({ ok: false, refusal: 'bad-mac' });
  });

  it('refuses made-up and malformed tickets', () => {
    for (const made of [
      '',
      'lt1',
      'lt1.e30',
      'lt1.e30.AAAA',
      'lt2.e30.x',
      `lt1.${'A'.repeat(60)}.${'B'.repeat(43)}`,
    ])
      expect(tickets.check(made, within()).ok).toBe(false);
  });

  it('ends with the token, or an hour after the serve, plus a delivery grace', () => {
    const shortLived = tickets.issue({ ...serve, expiresAt: now + 60_000 });
    const unbounded = tickets.issue(serve);
    now += 60_000 + LEDGER_TICKET_DELIVERY_GRACE_MS;
    expect(tickets.check(shortLived, { firstAt: now - 20_000, lastAt: now - 20_000 }).ok).toBe(true);
    now += 1;
    expect(tickets.check(shortLived, { firstAt: now - 20_000, lastAt: now - 20_000 })).toEqual({
      ok: false,
      refusal: 'expired',
    });
    expect(tickets.check(unbounded, within()).ok).toBe(true);
    now += LEDGER_TICKET_MAX_LIFETIME_MS;
    expect(tickets.check(unbounded, within())).toEqual({ ok: false, refusal: 'expired' });
  });

  it('refuses hits dated before the serve, after the ticket, in the future, or backwards', () => {
    const ticket = tickets.issue({ ...serve, expiresAt: now + 120_000 });
    now += 30_000;
    for (const hit of [
      { firstAt: now - 60_000, lastAt: now },
      { firstAt: now, lastAt: now + 120_000 },
      { firstAt: now, lastAt: now + 60_000 },
      { firstAt: now, lastAt: now - 1000 },
    ])
      expect(tickets.check(ticket, hit)).toEqual({ ok: false, refusal: 'bad-times' });
  });
});

describe('TokenLedger.recordHits: hits recorded with the ticket facts on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const fingerprints = new TokenFingerprinter(randomBytes(32));
  const base: Omit<ServeRecord, 'token'> = {
    orgId: 'acme',
    consumer: 'web',
    subject: 'alice',
    authorizationId: AUTHZ,
    providerId: PROVIDER,
    path: 'rest',
    attenuated: false,
    expiresAt: new Date(Date.now() + 600_000),
  };

  beforeAll(async () => {
    db = await createTestDatabase('ledger_tickets');
    ds = await new DataSource(domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'ledger-tickets')).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('adds the hits to the serve’s own row, and never puts the token in the ticket', async () => {
    const ledger = new TokenLedger(ds, fingerprints, { ...DEFAULT_TOKEN_LEDGER_OPTIONS, flushMs: 10_000 });
    const token = `gho_canary-${randomBytes(8).toString('hex')}`;
    const ticket = ledger.record({ ...base, token }, { ticket: true });
    expect(typeof ticket).toBe('string');
    expect(Buffer.from(String(ticket).split('.')[1] ?? '', 'base64url').toString()).not.toContain(token);
    expect(ledger.record({ ...base, token: 'no-ticket-asked' })).toBeUndefined();
    await ledger.flush();
    const at = Date.now();
    expect(ledger.recordHits([{ ticket: String(ticket), count: 41, firstAt: at, lastAt: at + 10 }])).toEqual({
      recorded: 41,
      refused: {},
    });
    await ledger.close();
    const rows = await ledger.byFingerprint('acme', fingerprints.ofToken(token));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ consumer: 'web', subject: 'alice', path: 'rest', serveCount: 42 });
    expect(new Date(rows[0]?.lastServedAt ?? 0).getTime()).toBe(at + 10);
  });

  it('writes nothing for a forged, altered or foreign ticket', async () => {
    const ledger = new TokenLedger(ds, fingerprints, { ...DEFAULT_TOKEN_LEDGER_OPTIONS, flushMs: 10_000 });
    const rival = new TokenLedger(ds, new TokenFingerprinter(randomBytes(32)));
    const token = `gho_other-${randomBytes(8).toString('hex')}`;
    const foreign = String(rival.record({ ...base, token }, { ticket: true }));
    const own = String(ledger.record({ ...base, orgId: 'victim', token: 'victim-token' }, { ticket: true }));
    await Promise.all([ledger.close(), rival.close()]);
    const at = Date.now();
    const result = ledger.recordHits([
      { ticket: foreign, count: 5, firstAt: at, lastAt: at },
      { ticket: altered(own, (c) => (c['o'] = 'acme')), count: 5, firstAt: at, lastAt: at },
      { ticket: 'lt1.e30.forged', count: 5, firstAt: at, lastAt: at },
    ]);
    expect(result).toEqual({ recorded: 0, refused: { 'bad-mac': 3 } });
    expect(ledger.pendingCount).toBe(0);
    await ledger.close();
    expect((await ledger.search('victim', { limit: 10 })).items.map((i) => i.serveCount)).toEqual([1]);
    expect((await ledger.byFingerprint('acme', fingerprints.ofToken('victim-token'))).length).toBe(0);
  });
});
