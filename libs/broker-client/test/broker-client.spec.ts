import { BrokerClient, BrokerClientError, BrokerClientOptions } from '../src';
import { generateServiceKey } from '@broker/bus-protocol';
import { freePort } from '@broker/testing';
import { FakeBroker, startFakeBroker, waitFor } from './support/fake-broker';

const AUTH = 'auth-1';
const USER = 'user-1';
const PROVIDER = 'github';

function codeOf(err: unknown): string | undefined {
  return err instanceof BrokerClientError ? err.code : undefined;
}

describe('BrokerClient against a fake broker', () => {
  let broker: FakeBroker;
  let clients: BrokerClient[] = [];

  beforeAll(async () => {
    broker = await startFakeBroker('bclient');
  });

  afterAll(async () => {
    await broker.close();
  });

  beforeEach(() => {
    broker.state.reset();
    broker.state.authorizations.set(AUTH, { userId: USER, providerId: PROVIDER, lifetimeSeconds: 3600 });
  });

  afterEach(async () => {
    broker.state.release();
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
  });

  async function connect(extra: Partial<BrokerClientOptions> = {}): Promise<BrokerClient> {
    const client = await BrokerClient.connect({
      redisUrl: broker.redisUrl,
      brokerPublicKey: broker.brokerPublicKey,
      eventsPublicKeys: broker.eventsPublicKeys,
      prefix: broker.prefix,
      credentials: {
        tokenUrl: broker.tokenUrl,
        clientId: broker.clientId,
        clientSecret: broker.clientSecret,
      },
      name: 'broker-client-test',
      logger: { warn: () => undefined },
      ...extra,
    });
    clients.push(client);
    return client;
  }

  describe('connect', () => {
    it('rejects within its timeout when Redis cannot be reached, and leaves nothing running', async () => {
      const port = await freePort();
      const started = Date.now();
      const err = await BrokerClient.connect({
        redisUrl: `redis://127.0.0.1:${port}`,
        brokerPublicKey: broker.brokerPublicKey,
        eventsPublicKeys: broker.eventsPublicKeys,
        prefix: broker.prefix,
        credentials: {
          tokenUrl: broker.tokenUrl,
          clientId: broker.clientId,
          clientSecret: broker.clientSecret,
        },
        connectTimeoutMs: 500,
      }).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('rejects within its timeout when the token-broker does not answer to the key it was given', async () => {
      const started = Date.now();
      const err = await connect({
        brokerPublicKey: generateServiceKey('b1').publicKey,
        connectTimeoutMs: 700,
      }).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('UNAVAILABLE');
      expect((err as Error).message).toMatch(/token-broker/);
      expect(Date.now() - started).toBeLessThan(2_500);
    });
  });

  describe('local cache', () => {
    it('serves a second acquire from the cache without a bus call, with the caller’s token checked by the broker', async () => {
      const client = await connect();
      const first = await client.acquire({ authorizationId: AUTH });
      const second = await client.acquire({ authorizationId: AUTH });
      expect(second).toEqual(first);
      expect(first).toMatchObject({
        authorizationId: AUTH,
        userId: USER,
        providerId: PROVIDER,
        tokenType: 'Bearer',
        scopes: ['repo'],
      });
      expect(broker.state.busCalls).toHaveLength(1);
      // The broker saw exactly the token its token endpoint issued, and the request's minimum validity.
      expect(broker.state.busCalls[0]).toEqual({
        request: { authorizationId: AUTH, minValiditySeconds: 60 },
        auth: broker.state.issuedOwnTokens[0],
      });
      expect(client.stats()).toMatchObject({ acquires: 2, cacheHits: 1, busRequests: 1, cachedTokens: 1 });
    });

    it('hands out copies: changing a returned token does not change the cache', async () => {
      const client = await connect();
      const first = await client.acquire({ authorizationId: AUTH });
      first.accessToken = 'tampered';
      first.scopes.push('admin');
      const second = await client.acquire({ authorizationId: AUTH });
      expect(second.accessToken).not.toBe('tampered');
      expect(second.scopes).toEqual(['repo']);
    });

    it('asks the broker when the caller needs more remaining life than the cached token has', async () => {
      broker.state.authorizations.set(AUTH, { userId: USER, providerId: PROVIDER, lifetimeSeconds: 90 });
      const client = await connect();
      await client.acquire({ authorizationId: AUTH }); // 90 s left ≥ 60: cached
      await client.acquire({ authorizationId: AUTH, minValiditySeconds: 80 });
      expect(broker.state.busCalls).toHaveLength(1);
      await client.acquire({ authorizationId: AUTH, minValiditySeconds: 120 });
      expect(broker.state.busCalls).toHaveLength(2);
      expect(broker.state.busCalls[1]?.request).toEqual({ authorizationId: AUTH, minValiditySeconds: 120 });
    });

    it('keeps a token without expiresAt for at most 30 s, whatever minimum validity is asked', async () => {
      broker.state.authorizations.set(AUTH, { userId: USER, providerId: PROVIDER });
      const client = await connect();
      const first = await client.acquire({ authorizationId: AUTH });
      expect(first.expiresAt).toBeUndefined();
      await client.acquire({ authorizationId: AUTH, minValiditySeconds: 600 });
      expect(broker.state.busCalls).toHaveLength(1);
      const now = Date.now();
      const spy = jest.spyOn(Date, 'now').mockReturnValue(now + 30_001);
      try {
        await client.acquire({ authorizationId: AUTH });
      } finally {
        spy.mockRestore();
      }
      expect(broker.state.busCalls).toHaveLength(2);
    });

    it('sends 50 concurrent acquires of one authorization as one bus request', async () => {
      const client = await connect();
      const tokens = await Promise.all(
        Array.from({ length: 50 }, () => client.acquire({ authorizationId: AUTH })),
      );
      expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
      expect(broker.state.busCalls).toHaveLength(1);
      expect(broker.state.tokenEndpointCalls).toBe(1);
      expect(client.stats()).toMatchObject({ busRequests: 1, sharedRequests: 49 });
    });

    it('lets a stricter concurrent acquire share a request only when its answer is enough', async () => {
      broker.state.authorizations.set(AUTH, { userId: USER, providerId: PROVIDER, lifetimeSeconds: 100 });
      const client = await connect();
      broker.state.hold();
      const lenient = client.acquire({ authorizationId: AUTH, minValiditySeconds: 60 });
      await waitFor(() => broker.state.busCalls.length === 1, 3_000, 'first bus call');
      const enough = client.acquire({ authorizationId: AUTH, minValiditySeconds: 90 });
      const tooStrict = client.acquire({ authorizationId: AUTH, minValiditySeconds: 200 });
      broker.state.release();
      const [a, b, c] = await Promise.all([lenient, enough, tooStrict]);
      expect(b.accessToken).toBe(a.accessToken);
      // 100 s of life cannot satisfy 200 s: that caller asked again with its own minimum.
      expect(broker.state.busCalls.map((call) => call.request.minValiditySeconds)).toEqual([60, 200]);
      expect(c.accessToken).not.toBe(a.accessToken);
    });

    it('resolves user + provider through an alias to the same cached authorization', async () => {
      const client = await connect();
      const byAlias = await client.acquire({ userId: USER, providerId: PROVIDER });
      expect(byAlias.authorizationId).toBe(AUTH);
      expect(broker.state.busCalls[0]?.request).toEqual({
        userId: USER,
        providerId: PROVIDER,
        minValiditySeconds: 60,
      });
      await client.acquire({ userId: USER, providerId: PROVIDER });
      // The alias and the id share one entry.
      const byId = await client.acquire({ authorizationId: AUTH });
      expect(byId.accessToken).toBe(byAlias.accessToken);
      expect(broker.state.busCalls).toHaveLength(1);
    });

    it('invalidate() drops the entry and its aliases', async () => {
      const client = await connect();
      await client.acquire({ userId: USER, providerId: PROVIDER });
      client.invalidate(AUTH);
      await client.acquire({ userId: USER, providerId: PROVIDER });
      expect(broker.state.busCalls).toHaveLength(2);
    });
  });

  describe('events', () => {
    it('drops an authorization and its aliases as soon as its event arrives', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: AUTH });
      await client.acquire({ userId: USER, providerId: PROVIDER });
      expect(broker.state.busCalls).toHaveLength(2);
      await client.acquire({ authorizationId: AUTH });
      await client.acquire({ userId: USER, providerId: PROVIDER });
      expect(broker.state.busCalls).toHaveLength(2);

      await broker.publish({
        type: 'authorization.refreshed',
        orgId: 'org-1',
        authorizationId: AUTH,
        providerId: PROVIDER,
        userId: USER,
        status: 'active',
        at: new Date().toISOString(),
      } as never);
      await waitFor(() => client.stats().eventsReceived === 1, 3_000, 'the event');
      expect(client.stats().cachedTokens).toBe(0);
      await client.acquire({ userId: USER, providerId: PROVIDER });
      expect(broker.state.busCalls).toHaveLength(3);
      await client.acquire({ authorizationId: AUTH });
      expect(broker.state.busCalls).toHaveLength(3);
    });

    it('drops aliases pointing to an authorization even when the event names no user or provider', async () => {
      const client = await connect();
      await client.acquire({ userId: USER, providerId: PROVIDER });
      await broker.publish({ type: 'authorization.revoked', authorizationId: AUTH });
      await waitFor(() => client.stats().eventsReceived === 1, 3_000, 'the event');
      await client.acquire({ userId: USER, providerId: PROVIDER });
      expect(broker.state.busCalls).toHaveLength(2);
    });

    it('does not cache an answer that was under way when the event came', async () => {
      const client = await connect();
      broker.state.hold();
      const pending = client.acquire({ authorizationId: AUTH, timeoutMs: 5_000 });
      await waitFor(() => broker.state.busCalls.length === 1, 3_000, 'the bus call');
      await broker.publish({
        type: 'authorization.revoked',
        authorizationId: AUTH,
        userId: USER,
        providerId: PROVIDER,
      });
      await waitFor(() => client.stats().eventsReceived === 1, 3_000, 'the event');
      broker.state.release();
      await pending;
      await client.acquire({ authorizationId: AUTH });
      expect(broker.state.busCalls).toHaveLength(2);
    });

    it('drops every token of a provider when its signed change notice arrives; an unsigned one changes nothing', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: AUTH });
      await client.acquire({ authorizationId: AUTH });
      expect(broker.state.busCalls).toHaveLength(1);
      const notice = {
        type: 'provider.changed',
        orgId: 'org-1',
        providerId: PROVIDER,
        at: new Date().toISOString(),
      } as const;
      await broker.publish(JSON.stringify(notice));
      await broker.publish(broker.sign({ ...notice, providerId: 'another-provider' }));
      await waitFor(() => client.stats().eventsReceived === 1, 3_000, 'the other provider’s notice');
      expect(client.stats().eventsRejected).toBe(1);
      expect(client.stats().cachedTokens).toBe(1);
      await broker.publish(broker.sign(notice));
      await waitFor(() => client.stats().eventsReceived === 2, 3_000, 'the notice');
      expect(client.stats().cachedTokens).toBe(0);
      await client.acquire({ authorizationId: AUTH });
      expect(broker.state.busCalls).toHaveLength(2);
    });

    it('ignores malformed messages and forged events on the channel', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: AUTH });
      const forged = broker.event({ type: 'authorization.revoked', authorizationId: AUTH });
      const genuine = JSON.parse(broker.sign(forged)) as { e: string };
      const raws = [
        'not json',
        '42',
        'null',
        '[]',
        JSON.stringify({ type: 'authorization.revoked' }),
        JSON.stringify({ authorizationId: 7 }),
        // The old unsigned format, and a complete event nobody signed: anyone on Redis can publish these.
        JSON.stringify(forged),
        JSON.stringify({ v: 1, k: 'e1', e: JSON.stringify(forged), s: 'A'.repeat(86) }),
        // A genuine signature over another event, moved onto this one.
        JSON.stringify({
          ...(JSON.parse(broker.sign(broker.event({ authorizationId: 'other' }))) as object),
          e: genuine.e,
        }),
      ];
      for (const raw of raws) await broker.publish(raw);
      // A genuine event for another authorization marks the point where all the above were read.
      await broker.publish({ type: 'authorization.created', authorizationId: 'other' });
      await waitFor(() => client.stats().eventsReceived === 1, 3_000, 'the marker event');
      expect(client.stats().eventsRejected).toBe(raws.length);
      await client.acquire({ authorizationId: AUTH });
      expect(broker.state.busCalls).toHaveLength(1);
    });

    it('clears the whole cache when the subscription connection drops and comes back', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: AUTH });
      const admin = broker.redis();
      const list = (await admin.client('LIST')) as string;
      const line = list.split('\n').find((l) => / name=broker-client-test:events /.test(` ${l} `));
      const id = line ? /\bid=(\d+)/.exec(line)?.[1] : undefined;
      expect(id).toBeDefined();
      await admin.client('KILL', 'ID', id as string);
      await waitFor(
        () => client.stats().cacheClears >= 2 && client.stats().subscribed,
        5_000,
        'the resubscription',
      );
      expect(client.stats().cachedTokens).toBe(0);
      await client.acquire({ authorizationId: AUTH });
      expect(broker.state.busCalls).toHaveLength(2);
      // Caching works again, and so do events.
      await client.acquire({ authorizationId: AUTH });
      expect(broker.state.busCalls).toHaveLength(2);
      await broker.publish({ type: 'authorization.expired', authorizationId: AUTH });
      await waitFor(() => client.stats().eventsReceived === 1, 3_000, 'an event after the reconnect');
      expect(client.stats().cachedTokens).toBe(0);
    });
  });

  describe('errors', () => {
    it('maps GONE, NOT_FOUND, FORBIDDEN and CONFLICT to typed errors and caches none of them', async () => {
      broker.state.authorizations.set('gone', { userId: USER, providerId: 'gitlab', error: 'GONE' });
      broker.state.authorizations.set('forbidden', { userId: USER, providerId: 'box', error: 'FORBIDDEN' });
      broker.state.authorizations.set('pending', { userId: USER, providerId: 'jira', error: 'CONFLICT' });
      const client = await connect();
      const gone = await client.acquire({ authorizationId: 'gone' }).catch((e: unknown) => e);
      expect(gone).toBeInstanceOf(BrokerClientError);
      expect(gone).toMatchObject({ code: 'GONE', busCode: 'GONE', retryable: false });
      expect(codeOf(await client.acquire({ authorizationId: 'nope' }).catch((e: unknown) => e))).toBe(
        'NOT_FOUND',
      );
      expect(
        codeOf(await client.acquire({ userId: USER, providerId: 'nope' }).catch((e: unknown) => e)),
      ).toBe('NOT_FOUND');
      expect(codeOf(await client.acquire({ authorizationId: 'forbidden' }).catch((e: unknown) => e))).toBe(
        'FORBIDDEN',
      );
      expect(codeOf(await client.acquire({ authorizationId: 'pending' }).catch((e: unknown) => e))).toBe(
        'CONFLICT',
      );
      expect(codeOf(await client.acquire({ authorizationId: 'gone' }).catch((e: unknown) => e))).toBe('GONE');
      expect(broker.state.busCalls).toHaveLength(6);
    });

    it('never puts a token in an error message, even when the broker’s message holds one', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: AUTH });
      const ownToken = broker.state.issuedOwnTokens[0] as string;
      const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
      broker.state.errorMessageSuffix = ` (caller ${ownToken}, ${jwt})`;
      const err = (await client
        .acquire({ authorizationId: 'nope' })
        .catch((e: unknown) => e)) as BrokerClientError;
      expect(err.code).toBe('NOT_FOUND');
      expect(err.message).toContain('[redacted]');
      expect(err.message).not.toContain(ownToken);
      expect(err.message).not.toContain(jwt);
      expect(JSON.stringify(err)).not.toContain(ownToken);
    });

    it('times out within the deadline when the broker never answers', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: 'warm-up' }).catch(() => undefined); // own token fetched
      broker.state.hold();
      const started = Date.now();
      const err = await client.acquire({ authorizationId: AUTH, timeoutMs: 300 }).catch((e: unknown) => e);
      const took = Date.now() - started;
      expect(err).toMatchObject({ code: 'TIMEOUT', retryable: true });
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(1_500);
    });

    it('times out within the deadline while its own token is still being fetched, and keeps the token for later', async () => {
      broker.state.tokenEndpointDelayMs = 800;
      const client = await connect();
      const started = Date.now();
      const err = await client.acquire({ authorizationId: AUTH, timeoutMs: 300 }).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('TIMEOUT');
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(broker.state.busCalls).toHaveLength(0);
      // The fetch went on; once it lands, the next acquire uses its token without another fetch.
      await waitFor(() => broker.state.issuedOwnTokens.length === 1, 3_000, 'the token endpoint');
      await new Promise((resolve) => setTimeout(resolve, 50));
      broker.state.tokenEndpointDelayMs = 0;
      await client.acquire({ authorizationId: AUTH });
      expect(broker.state.tokenEndpointCalls).toBe(1);
      expect(broker.state.busCalls[0]?.auth).toBe(broker.state.issuedOwnTokens[0]);
    });

    it('uses defaultTimeoutMs when the call gives none', async () => {
      const client = await connect({ defaultTimeoutMs: 200 });
      await client.acquire({ authorizationId: AUTH });
      broker.state.hold();
      const started = Date.now();
      const err = await client
        .acquire({ authorizationId: AUTH, minValiditySeconds: 7200 })
        .catch((e: unknown) => e);
      expect(codeOf(err)).toBe('TIMEOUT');
      expect(Date.now() - started).toBeLessThan(1_500);
    });

    it('rejects INVALID_REQUEST before any I/O', async () => {
      const getAccessToken = jest.fn(async () => 'never-used');
      const client = await connect({ credentials: { getAccessToken } });
      const bad: unknown[] = [
        {},
        { userId: USER },
        { providerId: PROVIDER },
        { authorizationId: AUTH, userId: USER },
        { authorizationId: AUTH, providerId: PROVIDER },
        { authorizationId: '' },
        { authorizationId: 42 },
        { authorizationId: AUTH, minValiditySeconds: -1 },
        { authorizationId: AUTH, minValiditySeconds: Number.NaN },
        { authorizationId: AUTH, timeoutMs: 0 },
        null,
      ];
      for (const request of bad) {
        const err = await client.acquire(request as never).catch((e: unknown) => e);
        expect(codeOf(err)).toBe('INVALID_REQUEST');
      }
      expect(getAccessToken).not.toHaveBeenCalled();
      expect(broker.state.busCalls).toHaveLength(0);
      expect(client.stats()).toMatchObject({ acquires: 0, busRequests: 0, ownTokenFetches: 0 });
    });

    it('rejects acquires after close() with CLOSED, and pending ones too', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: AUTH });
      broker.state.hold();
      const pending = client
        .acquire({ authorizationId: AUTH, minValiditySeconds: 7200, timeoutMs: 5_000 })
        .catch((e: unknown) => e);
      await waitFor(() => broker.state.busCalls.length === 2, 3_000, 'the second bus call');
      await client.close();
      expect(codeOf(await pending)).toBe('CLOSED');
      expect(codeOf(await client.acquire({ authorizationId: AUTH }).catch((e: unknown) => e))).toBe('CLOSED');
      await client.close(); // idempotent
    });
  });

  describe('own access token', () => {
    it('fetches it once with client_credentials and shares it across keys until near its expiry', async () => {
      broker.state.authorizations.set('auth-2', {
        userId: 'user-2',
        providerId: PROVIDER,
        lifetimeSeconds: 3600,
      });
      broker.state.authorizations.set('auth-3', {
        userId: 'user-3',
        providerId: PROVIDER,
        lifetimeSeconds: 3600,
      });
      broker.state.ownTokenLifetimeSeconds = 2; // refreshed after half its life (1 s)
      const client = await connect();
      await Promise.all([
        client.acquire({ authorizationId: AUTH }),
        client.acquire({ authorizationId: 'auth-2' }),
      ]);
      expect(broker.state.tokenEndpointCalls).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      await client.acquire({ authorizationId: 'auth-3' });
      expect(broker.state.tokenEndpointCalls).toBe(2);
      expect(broker.state.busCalls.map((c) => c.auth)).toEqual([
        ...broker.state.issuedOwnTokens.slice(0, 1),
        broker.state.issuedOwnTokens[0],
        broker.state.issuedOwnTokens[1],
      ]);
    });

    it('drops a token the broker refuses (keys rotated) and retries once with a fresh one', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: AUTH });
      broker.state.rotateKeys();
      const token = await client.acquire({ authorizationId: AUTH, minValiditySeconds: 7200 });
      expect(token.authorizationId).toBe(AUTH);
      expect(broker.state.tokenEndpointCalls).toBe(2);
      const auths = broker.state.busCalls.map((c) => c.auth);
      expect(auths).toEqual([
        broker.state.issuedOwnTokens[0],
        broker.state.issuedOwnTokens[0],
        broker.state.issuedOwnTokens[1],
      ]);
      // The fresh token is kept for later calls.
      await client.acquire({ authorizationId: AUTH, minValiditySeconds: 7200 });
      expect(broker.state.tokenEndpointCalls).toBe(2);
    });

    it('gives up with UNAUTHENTICATED after one retry, without the token in the message', async () => {
      const client = await connect();
      await client.acquire({ authorizationId: AUTH });
      // Every token is refused, fresh ones included.
      const refuseAll = jest.spyOn(broker.state.validOwnTokens, 'has').mockReturnValue(false);
      try {
        const err = (await client
          .acquire({ authorizationId: AUTH, minValiditySeconds: 7200 })
          .catch((e: unknown) => e)) as BrokerClientError;
        expect(err).toMatchObject({ code: 'UNAUTHENTICATED', busCode: 'UNAUTHENTICATED' });
        for (const t of broker.state.issuedOwnTokens) expect(err.message).not.toContain(t);
      } finally {
        refuseAll.mockRestore();
      }
      expect(broker.state.busCalls).toHaveLength(3);
    });

    it('reports invalid client credentials as UNAUTHENTICATED without the secret', async () => {
      const client = await connect({
        credentials: {
          tokenUrl: broker.tokenUrl,
          clientId: broker.clientId,
          clientSecret: 'wrong-secret-value',
        },
      });
      const err = (await client
        .acquire({ authorizationId: AUTH })
        .catch((e: unknown) => e)) as BrokerClientError;
      expect(err).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(err.message).toContain('invalid_client');
      expect(err.message).not.toContain('wrong-secret-value');
      expect(broker.state.busCalls).toHaveLength(0);
    });

    it('reports an unreachable token endpoint as UNAVAILABLE', async () => {
      const client = await connect({
        credentials: { tokenUrl: 'http://127.0.0.1:1/api/v1/oauth/token', clientId: 'x', clientSecret: 'y' },
      });
      const err = await client.acquire({ authorizationId: AUTH, timeoutMs: 2_000 }).catch((e: unknown) => e);
      expect(codeOf(err)).toBe('UNAVAILABLE');
    });

    it('takes the token from getAccessToken, asking for a fresh one after a refusal', async () => {
      const calls: boolean[] = [];
      const client = await connect({
        credentials: {
          getAccessToken: async ({ forceRefresh }) => {
            calls.push(forceRefresh);
            return forceRefresh || calls.length === 1 ? broker.state.issueOwnToken() : 'stale-token';
          },
        },
      });
      await client.acquire({ authorizationId: AUTH });
      broker.state.rotateKeys();
      await client.acquire({ authorizationId: AUTH, minValiditySeconds: 7200 });
      expect(calls).toEqual([false, false, true]);
      expect(broker.state.busCalls).toHaveLength(3);
    });
  });
});
