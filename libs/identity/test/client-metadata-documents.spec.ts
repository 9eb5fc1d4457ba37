import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { KeyedHasher } from '@broker/crypto';
import { createGuardedFetch, type EgressPolicy, type GuardedFetch } from '@broker/provider-adapters';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import {
  checkClientIdUrl,
  checkMetadataDocument,
  ClientMetadataSettings,
  ClientMetadataSettingsError,
  ClientsService,
  DEFAULT_METADATA_FETCH,
  IDENTITY_SCHEMA,
  MetadataDocumentClients,
  OAuthError,
} from '../src';

const LOOPBACK_POLICY = (port: number): EgressPolicy => ({ allowLoopback: true, allowedPorts: [443, port] });

/** The OAuthError a promise or call was refused with. */
async function refusal(run: () => unknown): Promise<OAuthError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof OAuthError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('client identifier URLs (draft-ietf-oauth-client-id-metadata-document §3)', () => {
  const strict: EgressPolicy = { allowLoopback: false, allowedPorts: [443] };

  it('accepts an https URL with a path, exactly as written', () => {
    expect(checkClientIdUrl('https://client.example/oauth/client.json', strict).href).toBe(
      'https://client.example/oauth/client.json',
    );
  });

  it.each([
    ['http://client.example/client.json', /https/],
    ['https://client.example', /path/],
    ['https://client.example/', /path/],
    ['https://client.example/a/../client.json', /\. or \.\./],
    ['https://client.example/a/./client.json', /\. or \.\./],
    ['https://client.example/client.json#x', /fragment/],
    ['https://user:pw@client.example/client.json', /user name or password/],
    ['https://10.0.0.7/client.json', /private/],
    ['https://169.254.169.254/latest/meta-data', /link-local|metadata/],
    ['https://127.0.0.1/client.json', /loopback/],
    ['https://localhost/client.json', /loopback/],
    ['https://intranet/client.json', /single-label/],
    ['https://client.example:8443/client.json', /port 8443/],
  ])('refuses %s', (url, why) => {
    let caught: unknown;
    try {
      checkClientIdUrl(url, strict);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OAuthError);
    expect((caught as OAuthError).error).toBe('invalid_client');
    expect((caught as OAuthError).description).toMatch(why);
  });
});

describe('client ID metadata documents (draft §4)', () => {
  const url = 'https://client.example/client.json';
  const doc = {
    client_id: url,
    client_name: 'Example',
    redirect_uris: ['https://client.example/callback'],
    token_endpoint_auth_method: 'none',
  };

  it('keeps what the broker needs of an acceptable document', () => {
    expect(
      checkMetadataDocument(
        {
          ...doc,
          grant_types: ['authorization_code', 'refresh_token'],
          scope: 'providers:read',
          logo_uri: 'https://client.example/logo.png',
        },
        url,
      ),
    ).toEqual({
      clientName: 'Example',
      logoUri: 'https://client.example/logo.png',
      redirectUris: ['https://client.example/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: ['providers:read'],
    });
  });

  it.each([
    [
      'a client_id other than its URL',
      { ...doc, client_id: 'https://client.example/other.json' },
      /differs from the URL/,
    ],
    [
      'a client_id differing only by normalisation',
      { ...doc, client_id: 'https://CLIENT.example/client.json' },
      /differs from the URL/,
    ],
    ['a client_secret', { ...doc, client_secret: 'shh' }, /client_secret/],
    ['a client_secret_expires_at', { ...doc, client_secret_expires_at: 0 }, /client_secret/],
    [
      'a shared-secret auth method',
      { ...doc, token_endpoint_auth_method: 'client_secret_basic' },
      /shared secret/,
    ],
    [
      'private_key_jwt (not supported here)',
      { ...doc, token_endpoint_auth_method: 'private_key_jwt' },
      /only public clients/,
    ],
    ['no redirect_uris', { ...doc, redirect_uris: undefined }, /redirect_uris/],
    ['empty redirect_uris', { ...doc, redirect_uris: [] }, /redirect_uris/],
    ['a relative redirect URI', { ...doc, redirect_uris: ['/callback'] }, /redirect_uris/],
    ['client_credentials', { ...doc, grant_types: ['client_credentials'] }, /client_credentials/],
    ['an implicit response type', { ...doc, response_types: ['token'] }, /response_types/],
    ['an array', [doc], /JSON object/],
  ])('refuses a document with %s', (_name, body, why) => {
    let caught: unknown;
    try {
      checkMetadataDocument(body, url);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OAuthError);
    expect((caught as OAuthError).error).toBe('invalid_client');
    expect((caught as OAuthError).description).toMatch(why);
  });

  it('drops a display name with control or direction characters rather than trusting it, and a non-https logo', () => {
    const kept = checkMetadataDocument(
      { ...doc, client_name: '\u202eevil\u0000', logo_uri: 'javascript:alert(1)' },
      url,
    );
    expect(kept.clientName).toBe('evil');
    expect(kept.logoUri).toBeNull();
  });
});

describe('clients identified by URL, fetched through the egress guard (real PostgreSQL, a local document server)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let server: Server;
  let port: number;
  let settings: ClientMetadataSettings;
  let clients: ClientsService;
  let fetches = 0;
  const documents = new Map<
    string,
    { status?: number; body: string; headers?: Record<string, string>; delayMs?: number }
  >();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    fetches++;
    const path = (req.url ?? '').split('?')[0];
    const doc = documents.get(path);
    if (!doc) return void res.writeHead(404).end();
    const send = () =>
      res.writeHead(doc.status ?? 200, { 'content-type': 'application/json', ...doc.headers }).end(doc.body);
    if (doc.delayMs) setTimeout(send, doc.delayMs).unref();
    else send();
  };
  /** The document server under a made-up public name: the guard's resolver is told where it is (or a private address). */
  const resolver = (answers: Record<string, string>) => async (hostname: string) => {
    const address = answers[hostname];
    if (!address) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    return [{ address, family: 4 }];
  };
  const urlOf = (path: string, host = '127.0.0.1') => `http://${host}:${port}${path}`;
  const serve = (
    path: string,
    body: unknown,
    extra: { status?: number; headers?: Record<string, string>; delayMs?: number } = {},
  ) => documents.set(path, { body: typeof body === 'string' ? body : JSON.stringify(body), ...extra });
  const validDoc = (path: string, host = '127.0.0.1') => ({
    client_id: urlOf(path, host),
    client_name: 'Local MCP client',
    redirect_uris: ['http://127.0.0.1:1/app/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'providers:read tokens:read identity:admin',
  });
  const guards: GuardedFetch[] = [];
  const resolverFor = (policy: EgressPolicy, answers: Record<string, string> = {}) => {
    const guarded = createGuardedFetch(policy, {
      timeoutMs: 1_000,
      maxResponseBytes: 5 * 1024,
      maxRedirects: 0,
      lookup: resolver(answers),
    });
    guards.push(guarded);
    return new MetadataDocumentClients(ds, settings, guarded, policy, {
      ...DEFAULT_METADATA_FETCH,
      timeoutMs: 1_000,
    });
  };

  beforeAll(async () => {
    db = await createTestDatabase('client-metadata');
    ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'client-metadata-test'),
    ).initialize();
    await migrateDomainSchema(ds, 'identity');
    settings = new ClientMetadataSettings(ds);
    clients = new ClientsService(ds, new KeyedHasher(randomBytes(32)));
    await clients.ensureOrg('acme', 'Acme');
    await clients.ensureOrg('other', 'Other');
    server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all(guards.map((g) => g.close()));
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await ds?.destroy();
    await db?.drop();
  });

  it('refuses every client identified by URL while no org accepts them (the default), without fetching anything', async () => {
    serve('/off.json', validDoc('/off.json'));
    const before = fetches;
    const err = await refusal(() => resolverFor(LOOPBACK_POLICY(port)).resolve(urlOf('/off.json')));
    expect(err).toMatchObject({
      error: 'invalid_client',
      description: expect.stringMatching(/no organisation/),
    });
    expect(fetches).toBe(before);
  });

  it('checks settings: scopes named when enabling, no tokens:delegate, hosts or prefixes ending in /', async () => {
    await expect(
      settings.set('acme', { enabled: true, allowedClients: [], maxScopes: [] }),
    ).rejects.toBeInstanceOf(ClientMetadataSettingsError);
    await expect(
      settings.set('acme', { enabled: true, allowedClients: [], maxScopes: ['tokens:delegate'] }),
    ).rejects.toThrow(/tokens:delegate/);
    await expect(
      settings.set('acme', {
        enabled: true,
        allowedClients: ['https://client.example/mcp'],
        maxScopes: ['providers:read'],
      }),
    ).rejects.toThrow(/ends with \//);
    await expect(
      settings.set('acme', { enabled: true, allowedClients: ['not a host'], maxScopes: ['providers:read'] }),
    ).rejects.toThrow(/neither a host/);
    await expect(
      settings.set('acme', { enabled: true, allowedClients: [], maxScopes: ['no:such'] }),
    ).rejects.toThrow(/unknown scope/);
    expect(await settings.set('nobody', { enabled: false, allowedClients: [], maxScopes: [] })).toBeNull();
    expect(await settings.anyEnabled()).toBe(false);
  });

  it('fetches, checks and keeps an accepted client: its org, its redirect URIs, its scopes within the org’s', async () => {
    await settings.set('acme', {
      enabled: true,
      allowedClients: ['127.0.0.1'],
      maxScopes: ['providers:read', 'tokens:read'],
    });
    expect(await settings.anyEnabled()).toBe(true);
    serve('/good.json', validDoc('/good.json'), { headers: { 'cache-control': 'max-age=600' } });
    const resolver = resolverFor(LOOPBACK_POLICY(port));
    const client = await resolver.resolve(urlOf('/good.json'));
    expect(client).toMatchObject({
      id: urlOf('/good.json'),
      orgId: 'acme',
      kind: 'metadata_document',
      name: 'Local MCP client',
      redirectUris: ['http://127.0.0.1:1/app/callback'],
    });
    // identity:admin is in the document but not in what the org allows.
    expect(client.scopes.sort()).toEqual(['providers:read', 'tokens:read']);
    // Cached within its lifetime: no second fetch.
    const before = fetches;
    await resolver.resolve(urlOf('/good.json'));
    expect(fetches).toBe(before);
    // A secret sent for it is refused like a wrong one: it is a public client.
    await expect(clients.authenticate(urlOf('/good.json'), '')).rejects.toMatchObject({
      error: 'invalid_client',
    });
  });

  it('honours the document’s cache lifetime within bounds: no-store is refetched once the floor has passed', async () => {
    serve('/nostore.json', validDoc('/nostore.json'), { headers: { 'cache-control': 'no-store' } });
    const resolver = resolverFor(LOOPBACK_POLICY(port));
    await resolver.resolve(urlOf('/nostore.json'));
    const row = (await ds.query(
      `SELECT extract(epoch FROM metadata_expires_at - now())::int AS s FROM identity.oauth_clients WHERE id = $1`,
      [urlOf('/nostore.json')],
    )) as { s: number }[];
    expect(row[0].s).toBeGreaterThanOrEqual(DEFAULT_METADATA_FETCH.minCacheSeconds - 2);
    expect(row[0].s).toBeLessThanOrEqual(DEFAULT_METADATA_FETCH.minCacheSeconds);
    serve('/huge-age.json', validDoc('/huge-age.json'), { headers: { 'cache-control': 'max-age=99999999' } });
    await resolver.resolve(urlOf('/huge-age.json'));
    const capped = (await ds.query(
      `SELECT extract(epoch FROM metadata_expires_at - now())::int AS s FROM identity.oauth_clients WHERE id = $1`,
      [urlOf('/huge-age.json')],
    )) as { s: number }[];
    expect(capped[0].s).toBeLessThanOrEqual(DEFAULT_METADATA_FETCH.maxCacheSeconds);
    // Expired: fetched again, and a document that became unacceptable now refuses the client.
    await ds.query(
      `UPDATE identity.oauth_clients SET metadata_expires_at = now() - interval '1 second' WHERE id = $1`,
      [urlOf('/nostore.json')],
    );
    serve('/nostore.json', { ...validDoc('/nostore.json'), client_secret: 'leaked' });
    expect(await refusal(() => resolver.resolve(urlOf('/nostore.json')))).toMatchObject({
      error: 'invalid_client',
      description: expect.stringMatching(/client_secret/),
    });
  });

  it.each([
    [
      'whose client_id is not its URL',
      '/mismatch.json',
      (p: string) => ({ ...validDoc(p), client_id: urlOf('/elsewhere.json') }),
      {},
      /differs from the URL/,
    ],
    [
      'with a client_secret',
      '/secret.json',
      (p: string) => ({ ...validDoc(p), client_secret: 's3cret' }),
      {},
      /client_secret/,
    ],
    [
      'larger than 5 KB',
      '/big.json',
      (p: string) => ({ ...validDoc(p), padding: 'x'.repeat(6 * 1024) }),
      {},
      /exceeds|larger than/,
    ],
    ['that is not JSON', '/html.json', () => '<html>hello</html>', {}, /not JSON/],
    ['answered with 404', '/missing.json', (p: string) => validDoc(p), { status: 404 }, /answered 404/],
    [
      'that redirects',
      '/moved.json',
      () => '',
      { status: 302, headers: { location: '/good.json' } },
      /answered 302|redirect/,
    ],
    ['that does not answer in time', '/slow.json', (p: string) => validDoc(p), { delayMs: 5_000 }, /in time/],
  ])('refuses a document %s', async (_name, path, body, extra, why) => {
    serve(path, body(path), extra);
    const started = Date.now();
    const err = await refusal(() => resolverFor(LOOPBACK_POLICY(port)).resolve(urlOf(path)));
    expect(err).toMatchObject({ error: 'invalid_client', description: expect.stringMatching(why) });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(await clients.find(urlOf(path))).toBeNull();
  });

  it('never fetches from a name that resolves to a private or loopback address when loopback is not allowed', async () => {
    await settings.set('acme', { enabled: true, allowedClients: [], maxScopes: ['providers:read'] });
    const strict: EgressPolicy = { allowLoopback: false, allowedPorts: [443, port] };
    const before = fetches;
    // A public-looking name pointing at the private network or at this machine: refused at connection time.
    for (const [host, address] of [
      ['private.example', '10.1.2.3'],
      ['loop.example', '127.0.0.1'],
      ['meta.example', '169.254.169.254'],
    ]) {
      const err = await refusal(() =>
        resolverFor(strict, { [host]: address }).resolve(`https://${host}:${port}/client.json`),
      );
      expect(err).toMatchObject({
        error: 'invalid_client',
        description: expect.stringMatching(new RegExp(`resolves to ${address.replace(/\./g, '\\.')}`)),
      });
    }
    // And plain http, even to loopback, is refused.
    expect(await refusal(() => resolverFor(strict).resolve(urlOf('/good.json')))).toMatchObject({
      error: 'invalid_client',
      description: expect.stringMatching(/https/),
    });
    expect(fetches).toBe(before);
  });

  it('puts a client in the org whose list names it most specifically; refuses a tie, another org’s client and a disabled one', async () => {
    await settings.set('acme', {
      enabled: true,
      allowedClients: ['127.0.0.1'],
      maxScopes: ['providers:read'],
    });
    await settings.set('other', {
      enabled: true,
      allowedClients: [`http://127.0.0.1:${port}/other/`],
      maxScopes: ['tokens:read'],
    });
    serve('/other/client.json', validDoc('/other/client.json'));
    expect(await resolverFor(LOOPBACK_POLICY(port)).resolve(urlOf('/other/client.json'))).toMatchObject({
      orgId: 'other',
      scopes: ['tokens:read'],
    });
    // Acme now names the same prefix: two orgs equally specific, the client is not guessed into either.
    await settings.set('acme', {
      enabled: true,
      allowedClients: [`http://127.0.0.1:${port}/other/`],
      maxScopes: ['providers:read'],
    });
    expect(
      await refusal(() => resolverFor(LOOPBACK_POLICY(port)).resolve(urlOf('/other/client.json'))),
    ).toMatchObject({ description: expect.stringMatching(/several organisations/) });
    // Other turns it off: the client would now fall to acme, but it belongs to other.
    await settings.set('other', { enabled: false, allowedClients: [], maxScopes: [] });
    expect(
      await refusal(() => resolverFor(LOOPBACK_POLICY(port)).resolve(urlOf('/other/client.json'))),
    ).toMatchObject({ description: expect.stringMatching(/another organisation/) });
    // Disabled by acme's admin: refused even within its cache lifetime.
    await settings.set('acme', {
      enabled: true,
      allowedClients: ['127.0.0.1'],
      maxScopes: ['providers:read', 'tokens:read'],
    });
    await clients.disable(urlOf('/good.json'), 'acme');
    expect(
      await refusal(() => resolverFor(LOOPBACK_POLICY(port)).resolve(urlOf('/good.json'))),
    ).toMatchObject({ description: expect.stringMatching(/disabled/) });
  });

  it('never replaces a registered client whose id happens to be a URL', async () => {
    await clients.ensureClient(
      { orgId: 'acme', name: 'registered', grantTypes: ['client_credentials'], scopes: ['providers:read'] },
      urlOf('/registered.json'),
      'a-secret-of-sufficient-length',
    );
    serve('/registered.json', validDoc('/registered.json'));
    const before = fetches;
    expect(await resolverFor(LOOPBACK_POLICY(port)).resolve(urlOf('/registered.json'))).toMatchObject({
      kind: 'registered',
      name: 'registered',
    });
    expect(fetches).toBe(before);
  });
});
