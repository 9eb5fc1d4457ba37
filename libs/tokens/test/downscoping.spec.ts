import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { OAuthProvider, PolicyAnswer, ProviderType } from '@broker/contracts';
import { EnvelopeCipher, TokenFingerprinter, parseKeyring } from '@broker/crypto';
import {
  createGuardedFetch,
  resolveProvider,
  type GuardedFetch,
  type ResolvedProvider,
} from '@broker/provider-adapters';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, TestDatabase } from '@broker/testing';
// The provider fakes reproduce Box's and GitHub's documented wire formats; shared with the adapters' own tests.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { BOX_CLIENT, startBoxFake } from '../../provider-adapters/test/fakes/box';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { GITHUB_CLIENT, startGitHubFake } from '../../provider-adapters/test/fakes/github';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { pointAt, type OAuthFake } from '../../provider-adapters/test/fakes/oauth-fake';
import {
  AdapterNarrower,
  AuthorizationsService,
  AuthorizedProvidersService,
  Consumer,
  ConsumerTokens,
  DEFAULT_TOKEN_LEDGER_OPTIONS,
  DEFAULT_TOKEN_PATH_OPTIONS,
  ProviderAccess,
  TOKENS_SCHEMA,
  TokenLedger,
  TokenPath,
  TokensError,
} from '../src';

const BOX = '33333333-3333-4333-8333-333333333333';
const GITHUB = '44444444-4444-4444-8444-444444444444';
const PLAIN = '55555555-5555-4555-8555-555555555555';

/**
 * Downscoping through the whole serve: ConsumerTokens over the real token path and ledger on
 * PostgreSQL, narrowing by the provider adapters against the Box and GitHub fakes. The fake
 * receives the narrowing request, the served token is the narrowed one (attenuated: true), derived
 * tokens are reused per (authorization, restriction), and a provider that cannot narrow says so.
 */
describe('downscoping: narrower tokens minted by the provider, reported as attenuated', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let box: OAuthFake;
  let github: OAuthFake;
  let guarded: GuardedFetch;
  let authorizations: AuthorizationsService;
  let ledger: TokenLedger;
  let narrower: AdapterNarrower;
  let consumers: ConsumerTokens;
  const fingerprints = new TokenFingerprinter(randomBytes(32));
  const cipher = new EnvelopeCipher(parseKeyring(`k1:${randomKey().toString('base64')}`));
  let answer: PolicyAnswer = { allowed: true, maxScopes: null, maxLifetimeSeconds: null };
  const consumer: Consumer = { orgId: 'acme', clientId: 'previewer', path: 'bus' };
  const links: Record<string, { id: string; parent: string }> = {};

  const link = async (providerId: string, parent: string, scopes: string[]) => {
    const row = await authorizations.store('acme', {
      providerId,
      userId: 'alice',
      oauthClientId: 'app',
      scopes,
      externalUser: null,
      tokens: {
        accessToken: parent,
        refreshToken: `rt-${randomBytes(4).toString('hex')}`,
        expiresAt: new Date(Date.now() + 3600_000),
      },
    });
    return { id: row.id, parent };
  };

  beforeAll(async () => {
    box = await startBoxFake();
    github = await startGitHubFake();
    guarded = createGuardedFetch({
      allowLoopback: true,
      allowedPorts: [box.server.port, github.server.port],
    });
    const providers: Record<
      string,
      { type: ProviderType; resolved: ResolvedProvider; clientId: string; secret: string }
    > = {
      [BOX]: {
        type: 'box',
        resolved: pointAt(resolveProvider('box', {}), {
          'https://api.box.com': box.origin,
          'https://account.box.com': box.origin,
        }),
        clientId: BOX_CLIENT.id,
        secret: BOX_CLIENT.secret,
      },
      [GITHUB]: {
        type: 'github',
        resolved: resolveProvider(
          'github',
          { baseUrl: github.origin },
          { allowLoopback: true, allowedPorts: [github.server.port] },
        ),
        clientId: GITHUB_CLIENT.id,
        secret: GITHUB_CLIENT.secret,
      },
      [PLAIN]: {
        type: 'oauth2',
        resolved: resolveProvider('oauth2', {
          endpoints: { authorizationUrl: 'https://p.example/authorize', tokenUrl: 'https://p.example/token' },
        }),
        clientId: 'app',
        secret: 's',
      },
    };
    const access: ProviderAccess = async (_org, id) => {
      const p = providers[id];
      return p
        ? {
            provider: { id, type: p.type, status: 'active', clientId: p.clientId } as OAuthProvider,
            resolved: p.resolved,
            clientSecret: p.secret,
          }
        : null;
    };
    db = await createTestDatabase('downscoping');
    ds = await new DataSource(domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'downscoping')).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
    authorizations = new AuthorizationsService(ds, cipher);
    const path = new TokenPath(ds, cipher, access, guarded, () => undefined, DEFAULT_TOKEN_PATH_OPTIONS);
    const authorized = new AuthorizedProvidersService(
      ds,
      authorizations,
      path,
      access,
      guarded,
      () => undefined,
    );
    ledger = new TokenLedger(ds, fingerprints, { ...DEFAULT_TOKEN_LEDGER_OPTIONS, flushMs: 20 });
    narrower = new AdapterNarrower(access, guarded);
    consumers = new ConsumerTokens(path, authorized, access, async () => answer, ledger, narrower.narrow);
    links['box'] = await link(BOX, box.accessToken('alice', 'root_readwrite'), ['root_readwrite']);
    links['github'] = await link(GITHUB, github.accessToken('octocat'), []);
    links['plain'] = await link(PLAIN, `plain-${randomBytes(8).toString('hex')}`, ['read', 'write']);
  });

  afterAll(async () => {
    await ledger?.close();
    await ds?.destroy();
    await db?.drop();
    await guarded?.close();
    await box?.close();
    await github?.close();
  });

  beforeEach(() => {
    box.reset();
    github.reset();
    answer = { allowed: true, maxScopes: null, maxLifetimeSeconds: null };
  });

  it('Box: fewer scopes are minted by Box; the downscoped token is served, reused for the same restriction, and recorded', async () => {
    const served = await consumers.serve(
      consumer,
      { authorizationId: links['box'].id },
      { restriction: { scopes: ['item_preview'] } },
    );
    expect(box.requestsTo('/oauth2/token')).toHaveLength(1);
    expect(served).toMatchObject({ attenuated: true, unmet: [], scopes: ['item_preview'] });
    expect(served.accessToken).not.toBe(links['box'].parent);
    expect(box.accessTokens.get(served.accessToken)).toMatchObject({ alive: true, scope: 'item_preview' });
    // The same restriction again: the derived token from memory, no second call; another restriction: a new one.
    const again = await consumers.serve(
      consumer,
      { authorizationId: links['box'].id },
      { restriction: { scopes: ['item_preview'] } },
    );
    expect(again.accessToken).toBe(served.accessToken);
    expect(box.requestsTo('/oauth2/token')).toHaveLength(1);
    const other = await consumers.serve(
      consumer,
      { authorizationId: links['box'].id },
      { restriction: { scopes: ['item_download'] } },
    );
    expect(other.accessToken).not.toBe(served.accessToken);
    expect(box.requestsTo('/oauth2/token')).toHaveLength(2);
    // The ledger holds the narrowed token's fingerprint, with its restriction, never the parent's for this serve.
    await ledger.flush();
    const rows = await ledger.byFingerprint('acme', fingerprints.ofToken(served.accessToken));
    expect(rows).toEqual([
      expect.objectContaining({
        consumer: 'previewer',
        attenuated: true,
        restriction: { scopes: ['item_preview'] },
      }),
    ]);
    expect(await ledger.byFingerprint('acme', fingerprints.ofToken(links['box'].parent))).toEqual([]);
  });

  it('Box: a policy bound on scopes is met by narrowing instead of refusing', async () => {
    answer = { allowed: true, maxScopes: ['item_preview', 'item_download'], maxLifetimeSeconds: null };
    const served = await consumers.serve(consumer, { authorizationId: links['box'].id });
    expect(served.attenuated).toBe(true);
    expect(served.scopes.sort()).toEqual(['item_download', 'item_preview']);
    const [req] = box.requestsTo('/oauth2/token');
    expect(new URLSearchParams(req.body).get('scope')).toBe('item_preview item_download');
  });

  it('GitHub: chosen repositories and permissions are minted by GitHub as a scoped user token', async () => {
    const served = await consumers.serve(
      consumer,
      { authorizationId: links['github'].id },
      { restriction: { repositories: ['octo-org/api'], permissions: { contents: 'read' } } },
    );
    const [req] = github.requestsTo(`/api/v3/applications/${GITHUB_CLIENT.id}/token/scoped`);
    expect(JSON.parse(req.body)).toMatchObject({
      access_token: links['github'].parent,
      target: 'octo-org',
      repositories: ['api'],
      permissions: { contents: 'read' },
    });
    expect(served).toMatchObject({ attenuated: true, unmet: [] });
    expect(served.accessToken).toMatch(/^ghu_scoped-/);
    // What GitHub cannot narrow (scopes) is reported, not assumed.
    const mixed = await consumers.serve(
      consumer,
      { authorizationId: links['github'].id },
      { restriction: { repositories: ['octo-org/api'], scopes: ['repo'] } },
    );
    expect(mixed).toMatchObject({ attenuated: true, unmet: ['scopes'] });
  });

  it('GitHub: a narrowing GitHub refuses is a clear 422-class error, never a wider token', async () => {
    await expect(
      consumers.serve(
        consumer,
        { authorizationId: links['github'].id },
        { restriction: { repositories: ['a/x', 'b/y'] } },
      ),
    ).rejects.toMatchObject({ code: 'UNPROCESSABLE' });
  });

  it('a provider that cannot narrow: the authorization’s own token, attenuated false, the unmet parts named; a policy bound it exceeds is refused', async () => {
    const served = await consumers.serve(
      consumer,
      { authorizationId: links['plain'].id },
      { restriction: { scopes: ['read'], maxLifetimeSeconds: 600 } },
    );
    expect(served).toMatchObject({ accessToken: links['plain'].parent, attenuated: false });
    expect(served.unmet.sort()).toEqual(['maxLifetimeSeconds', 'scopes']);
    answer = { allowed: true, maxScopes: ['read'], maxLifetimeSeconds: null };
    const refused = await consumers
      .serve(consumer, { authorizationId: links['plain'].id })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TokensError);
    expect(refused).toMatchObject({
      code: 'FORBIDDEN',
      fields: [expect.objectContaining({ name: 'policy.scopes' })],
    });
  });
});
