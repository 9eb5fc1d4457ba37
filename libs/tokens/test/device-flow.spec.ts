import { DataSource } from 'typeorm';
import type { BrokerEvent } from '@broker/contracts';
import { EnvelopeCipher, KeyedHasher, parseKeyring } from '@broker/crypto';
import { resolveProvider } from '@broker/provider-adapters';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, TestDatabase } from '@broker/testing';
import {
  AuthorizationLinker,
  AuthorizationsService,
  DeviceFlowService,
  ProviderCredentials,
  TOKENS_SCHEMA,
} from '../src';
import { FakeProvider } from './support/fake-provider';

const PROVIDER_ID = '33333333-3333-4333-8333-333333333333';
const PLAIN_PROVIDER_ID = '44444444-4444-4444-8444-444444444444';

describe('DeviceFlowService (RFC 8628) on PostgreSQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const provider = new FakeProvider();
  const cipher = new EnvelopeCipher(parseKeyring(`k1:${randomKey().toString('base64')}`));
  const events: BrokerEvent[] = [];
  const scheduled: { id: string; delayMs: number }[] = [];
  let authorizations: AuthorizationsService;
  let flow: DeviceFlowService;
  let codes = 0;

  beforeAll(async () => {
    db = await createTestDatabase('device-lib');
    ds = await new DataSource(domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'device-test')).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
    authorizations = new AuthorizationsService(ds, cipher);
    await provider.start();
    const plain: ProviderCredentials = {
      ...provider.credentials(PLAIN_PROVIDER_ID),
      resolved: resolveProvider(
        'oauth2',
        { endpoints: { authorizationUrl: `${provider.url}/a`, tokenUrl: `${provider.url}/token` } },
        { allowLoopback: true, allowedPorts: [Number(new URL(provider.url).port)] },
      ),
    };
    const access = async (_org: string, id: string) =>
      id === PROVIDER_ID ? provider.credentials(PROVIDER_ID) : id === PLAIN_PROVIDER_ID ? plain : null;
    const linker = new AuthorizationLinker(authorizations, fetch, (e) => void events.push(e), 5_000);
    flow = new DeviceFlowService(
      ds,
      cipher,
      new KeyedHasher(randomKey()),
      access,
      linker,
      fetch,
      async (_org, id, delayMs) => void scheduled.push({ id, delayMs }),
      { providerTimeoutMs: 5_000 },
    );
  });

  afterAll(async () => {
    await provider.stop();
    await ds?.destroy();
    await db?.drop();
  });

  /** Starts a flow for `user` with a fresh device code; returns the code and the record id. */
  async function start(user: string, interval = 5) {
    codes++;
    const deviceCode = `device-code-${codes}-secret`;
    provider.device = () => ({
      body: {
        device_code: deviceCode,
        user_code: `USER-${codes}`,
        verification_uri: 'https://provider.test/device',
        expires_in: 600,
        interval,
      },
    });
    const started = await flow.start('org', user, PROVIDER_ID);
    const [row] = (await ds.query(`SELECT * FROM tokens.device_authorizations WHERE user_code = $1`, [
      started.user_code,
    ])) as { id: string; device_code: string }[];
    return { started, id: row.id, deviceCode, stored: row.device_code };
  }

  const answer = (body: Record<string, unknown>, status = 400) => {
    provider.token = () => ({ status, body });
  };
  /** Polls as the poller job does once the record's interval has passed. */
  const pollDue = async (id: string) => {
    await ds.query(
      `UPDATE tokens.device_authorizations SET updated_at = now() - interval '1 hour' WHERE id = $1`,
      [id],
    );
    return flow.poll('org', id);
  };
  const record = async (id: string) =>
    (
      (await ds.query(
        `SELECT status, interval_seconds, polls, error, authorization_id FROM tokens.device_authorizations WHERE id = $1`,
        [id],
      )) as Record<string, unknown>[]
    )[0];

  it('starts: returns the codes, stores the device code encrypted and starts one poller at the interval', async () => {
    const { started, id, deviceCode, stored } = await start('ada');
    expect(started).toEqual({
      device_code: deviceCode,
      user_code: expect.stringMatching(/^USER-/),
      verification_uri: 'https://provider.test/device',
      expires_in: 600,
      interval: 5,
    });
    expect(stored).not.toContain(deviceCode);
    expect(
      JSON.stringify(await ds.query(`SELECT * FROM tokens.device_authorizations WHERE id = $1`, [id])),
    ).not.toContain(deviceCode);
    expect(scheduled.at(-1)).toEqual({ id, delayMs: 5_000 });
  });

  it('polls: pending keeps the interval, slow_down adds 5 s and keeps it; the client sees the state', async () => {
    const { id, deviceCode } = await start('babbage');
    answer({ error: 'authorization_pending' });
    expect(await pollDue(id)).toBe(5_000);
    expect(await flow.exchange('org', 'babbage', PROVIDER_ID, deviceCode)).toMatchObject({
      state: 'authorization_pending',
    });
    answer({ error: 'slow_down' });
    expect(await pollDue(id)).toBe(10_000);
    expect(await flow.exchange('org', 'babbage', PROVIDER_ID, deviceCode)).toMatchObject({
      state: 'slow_down',
    });
    answer({ error: 'authorization_pending' });
    expect(await pollDue(id)).toBe(10_000); // kept
    expect(await record(id)).toMatchObject({ status: 'pending', interval_seconds: 10, polls: 3 });
    expect(provider.tokenRequests.at(-1)?.get('device_code')).toBe(deviceCode);
    expect(provider.tokenRequests.at(-1)?.get('grant_type')).toBe(
      'urn:ietf:params:oauth:grant-type:device_code',
    );
  });

  it('a poll asked for before the record’s interval (a forged or duplicate job) waits instead of calling the provider', async () => {
    const { id } = await start('early');
    answer({ error: 'authorization_pending' });
    const requests = provider.tokenRequests.length;
    const wait = await flow.poll('org', id);
    expect(wait).toBeGreaterThan(3_000);
    expect(wait).toBeLessThanOrEqual(5_000);
    expect(provider.tokenRequests.length).toBe(requests);
    expect(await record(id)).toMatchObject({ status: 'pending', polls: 0 });
  });

  it('links the account on success like a consent callback, then stops polling', async () => {
    const { id, deviceCode } = await start('lovelace');
    answer(
      { access_token: 'device-at', refresh_token: 'device-rt', token_type: 'Bearer', expires_in: 3600 },
      200,
    );
    expect(await pollDue(id)).toBeNull();
    const linked = await record(id);
    expect(linked).toMatchObject({ status: 'authorized', authorization_id: expect.any(String) });
    expect(await authorizations.tokens('org', linked['authorization_id'] as string)).toMatchObject({
      accessToken: 'device-at',
      refreshToken: 'device-rt',
    });
    expect(
      events.some(
        (e) =>
          e.type === 'authorization.created' &&
          e.authorizationId === linked['authorization_id'] &&
          e.userId === 'lovelace',
      ),
    ).toBe(true);
    expect(await flow.exchange('org', 'lovelace', PROVIDER_ID, deviceCode)).toMatchObject({
      state: 'authorized',
    });
    const requests = provider.tokenRequests.length;
    expect(await flow.poll('org', id)).toBeNull(); // a stray poll of a finished record does nothing
    expect(provider.tokenRequests.length).toBe(requests);
  });

  it('stops on access_denied: record denied, no authorization', async () => {
    const { id, deviceCode } = await start('denied-user');
    answer({ error: 'access_denied' });
    expect(await pollDue(id)).toBeNull();
    expect(await record(id)).toMatchObject({ status: 'denied', authorization_id: null });
    expect(await flow.exchange('org', 'denied-user', PROVIDER_ID, deviceCode)).toMatchObject({
      state: 'access_denied',
    });
    expect(await ds.query(`SELECT 1 FROM tokens.authorizations WHERE user_id = 'denied-user'`)).toEqual([]);
  });

  it('stops at expiry without asking the provider, and on expired_token', async () => {
    const late = await start('late');
    await ds.query(
      `UPDATE tokens.device_authorizations SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [late.id],
    );
    const requests = provider.tokenRequests.length;
    expect(await flow.poll('org', late.id)).toBeNull();
    expect(provider.tokenRequests.length).toBe(requests);
    expect(await flow.exchange('org', 'late', PROVIDER_ID, late.deviceCode)).toMatchObject({
      state: 'expired_token',
    });
    const told = await start('told');
    answer({ error: 'expired_token' });
    expect(await pollDue(told.id)).toBeNull();
    expect(await record(told.id)).toMatchObject({ status: 'expired' });
  });

  it('retries at the interval when the provider is down; fails for good on a refusal', async () => {
    const { id, deviceCode } = await start('flaky');
    answer({ error: 'server_error' }, 503);
    expect(await pollDue(id)).toBe(5_000);
    expect(await record(id)).toMatchObject({ status: 'pending' });
    answer({ error: 'invalid_client' }, 401);
    expect(await pollDue(id)).toBeNull();
    expect(await flow.exchange('org', 'flaky', PROVIDER_ID, deviceCode)).toMatchObject({ state: 'failed' });
  });

  it('sweeps: overdue records expire, finished ones are deleted after a day; stalled() finds pollers gone quiet', async () => {
    const quiet = await start('quiet');
    expect(await flow.stalled(30_000)).not.toContainEqual({ orgId: 'org', id: quiet.id });
    await ds.query(
      `UPDATE tokens.device_authorizations SET updated_at = now() - interval '1 minute' WHERE id = $1`,
      [quiet.id],
    );
    expect(await flow.stalled(30_000)).toContainEqual({ orgId: 'org', id: quiet.id });
    const overdue = await start('overdue');
    await ds.query(
      `UPDATE tokens.device_authorizations SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [overdue.id],
    );
    const old = await start('old');
    await ds.query(
      `UPDATE tokens.device_authorizations SET status = 'denied', updated_at = now() - interval '2 days' WHERE id = $1`,
      [old.id],
    );
    const swept = await flow.sweep();
    expect(swept).toEqual({ expired: 1, purged: 1 });
    expect(await record(overdue.id)).toMatchObject({ status: 'expired' });
    expect(await record(old.id)).toBeUndefined();
    await flow.fail('org', quiet.id, 'the poller failed');
    expect(await flow.exchange('org', 'quiet', PROVIDER_ID, quiet.deviceCode)).toMatchObject({
      state: 'failed',
      detail: expect.stringContaining('the poller failed'),
    });
  });

  it("answers NOT_FOUND for another user's code, an unknown code or provider; BAD_REQUEST for a provider without device flow", async () => {
    const { deviceCode } = await start('owner');
    await expect(flow.exchange('org', 'someone-else', PROVIDER_ID, deviceCode)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(flow.exchange('other-org', 'owner', PROVIDER_ID, deviceCode)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(flow.exchange('org', 'owner', PROVIDER_ID, 'not-a-code')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(flow.start('org', 'owner', '55555555-5555-4555-8555-555555555555')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(flow.start('org', 'owner', PLAIN_PROVIDER_ID)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});
