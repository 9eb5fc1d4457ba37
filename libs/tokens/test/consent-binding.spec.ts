import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, TestDatabase } from '@broker/testing';
import {
  AuthorizationLinker,
  AuthorizationsService,
  ConsentBrowserMismatchError,
  ConsentService,
  ProviderCredentials,
  TOKENS_SCHEMA,
  TokensError,
} from '../src';
import { FakeProvider } from './support/fake-provider';

const PROVIDER_ID = '33333333-3333-4333-8333-333333333333';
const CALLBACK = 'http://127.0.0.1/callback';
const START = 'http://127.0.0.1/connect/start';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Consent bound to the browser that started it (account-linking CSRF): a browser-started consent
 * goes through the start page, which binds it to one browser's cookie; the browser callback
 * completes only with that cookie. Also RFC 9207: `iss` is required from a provider that says it sends it.
 */
describe('ConsentService browser binding', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const provider = new FakeProvider();
  const cipher = new EnvelopeCipher(parseKeyring(`k1:${randomKey().toString('base64')}`));
  let authorizations: AuthorizationsService;
  let consent: ConsentService;
  let credentials: () => ProviderCredentials;

  beforeAll(async () => {
    db = await createTestDatabase('consent-binding');
    ds = await new DataSource(
      domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'consent-binding-test'),
    ).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
    authorizations = new AuthorizationsService(ds, cipher);
    await provider.start();
    let n = 0;
    provider.token = () => ({
      body: { access_token: `at-${++n}`, token_type: 'Bearer', expires_in: 3600, refresh_token: `rt-${n}` },
    });
    credentials = () => provider.credentials(PROVIDER_ID);
    const linker = new AuthorizationLinker(authorizations, fetch, () => undefined, 5_000);
    consent = new ConsentService(ds, cipher, async () => credentials(), linker, fetch, {
      defaultRedirectUri: CALLBACK,
      startPageUrl: START,
      allowedRedirectUris: ['http://127.0.0.1/front-end/callback'],
      stateTtlMs: 60_000,
      providerTimeoutMs: 5_000,
    });
  });

  afterAll(async () => {
    await provider.stop();
    await ds?.destroy();
    await db?.drop();
  });

  const linked = async (user: string) =>
    (await ds.query(`SELECT count(*)::int AS n FROM tokens.authorizations WHERE user_id = $1`, [user]))[0]
      .n as number;

  it('sends a browser-started consent to the start page, and to the provider only once a browser is bound', async () => {
    const { redirectUrl, state } = await consent.authorize('org', 'ada', PROVIDER_ID, 'app-state');
    const start = new URL(redirectUrl);
    expect(`${start.origin}${start.pathname}`).toBe(START);
    expect(start.searchParams.get('flow')).toBe(state);
    expect(await consent.describe(state)).toMatchObject({
      orgId: 'org',
      userId: 'ada',
      provider: { id: PROVIDER_ID },
    });

    const cookie = randomBytes(32).toString('base64url');
    const toProvider = new URL(await consent.bindBrowser(state, sha256(cookie)));
    expect(toProvider.origin).toBe(provider.url);
    expect(toProvider.searchParams.get('state')).toBe(state);
    expect(toProvider.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Bound once: a second browser cannot take it over, and the page no longer offers it.
    await expect(consent.bindBrowser(state, sha256('another browser'))).rejects.toBeInstanceOf(TokensError);
    expect(await consent.describe(state)).toBeNull();

    const done = await consent.complete(null, {
      code: 'c1',
      providerId: '',
      state,
      browserBinding: sha256(cookie),
    });
    expect(done.clientState).toBe('app-state');
    expect(await linked('ada')).toBe(1);
  });

  it('refuses the browser callback without the binding cookie or with another one, links nothing and spends the state', async () => {
    for (const browserBinding of [undefined, sha256('attacker cookie'), 'not-a-hash']) {
      const { state } = await consent.authorize('org', 'mallory', PROVIDER_ID);
      await consent.bindBrowser(state, sha256(`mallory-${String(browserBinding)}`));
      await expect(
        consent.complete(null, { code: 'c2', providerId: '', state, browserBinding }),
      ).rejects.toBeInstanceOf(ConsentBrowserMismatchError);
      // The state is spent: not even the right browser can use it afterwards.
      await expect(
        consent.complete(null, {
          code: 'c2',
          providerId: '',
          state,
          browserBinding: sha256(`mallory-${String(browserBinding)}`),
        }),
      ).rejects.toBeInstanceOf(TokensError);
    }
    // A consent nobody confirmed on the start page cannot be completed by a browser either.
    const { state } = await consent.authorize('org', 'mallory', PROVIDER_ID);
    await expect(
      consent.complete(null, { code: 'c3', providerId: '', state, browserBinding: sha256('x') }),
    ).rejects.toBeInstanceOf(ConsentBrowserMismatchError);
    expect(await linked('mallory')).toBe(0);
  });

  it('lets the user’s own front end complete through the API with the user’s token instead', async () => {
    const { redirectUrl, state } = await consent.authorize(
      'org',
      'grace',
      PROVIDER_ID,
      undefined,
      'http://127.0.0.1/front-end/callback',
    );
    expect(new URL(redirectUrl).origin).toBe(provider.url); // no start page: the front end binds its own browser
    await expect(consent.bindBrowser(state, sha256('x'))).rejects.toBeInstanceOf(TokensError);
    await consent.complete({ orgId: 'org', userId: 'grace' }, { code: 'c4', providerId: PROVIDER_ID, state });
    expect(await linked('grace')).toBe(1);
  });

  it('returns the app’s state on a provider error only to the browser that started the consent', async () => {
    const { state } = await consent.authorize('org', 'hopper', PROVIDER_ID, 'hopper-state');
    await consent.bindBrowser(state, sha256('hopper'));
    expect(await consent.abandon(state, sha256('someone else'))).toBe('mismatch');
    const again = await consent.authorize('org', 'hopper', PROVIDER_ID, 'hopper-state-2');
    await consent.bindBrowser(again.state, sha256('hopper'));
    expect(await consent.abandon(again.state, sha256('hopper'))).toBe('hopper-state-2');
  });

  it('requires iss from a provider that advertises RFC 9207, and checks it', async () => {
    credentials = () => {
      const c = provider.credentials(PROVIDER_ID);
      return {
        ...c,
        resolved: {
          ...c.resolved,
          endpoints: { ...c.resolved.endpoints, issuer: provider.url },
          authorizationResponseIssParameterSupported: true,
        },
      };
    };
    try {
      const start = async () =>
        (
          await consent.authorize(
            'org',
            'lamarr',
            PROVIDER_ID,
            undefined,
            'http://127.0.0.1/front-end/callback',
          )
        ).state;
      await expect(
        consent.complete(
          { orgId: 'org', userId: 'lamarr' },
          { code: 'c5', providerId: PROVIDER_ID, state: await start() },
        ),
      ).rejects.toThrow(/RFC 9207/);
      await expect(
        consent.complete(
          { orgId: 'org', userId: 'lamarr' },
          { code: 'c6', providerId: PROVIDER_ID, state: await start(), iss: 'https://evil.example' },
        ),
      ).rejects.toThrow(/RFC 9207/);
      expect(await linked('lamarr')).toBe(0);
      await consent.complete(
        { orgId: 'org', userId: 'lamarr' },
        { code: 'c7', providerId: PROVIDER_ID, state: await start(), iss: provider.url },
      );
      expect(await linked('lamarr')).toBe(1);
    } finally {
      credentials = () => provider.credentials(PROVIDER_ID);
    }
  });
});
