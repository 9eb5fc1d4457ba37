import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { KeyedHasher } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import {
  ClientMetadataSettings,
  ClientsService,
  IDENTITY_SCHEMA,
  MetadataDocumentClients,
  OAuthError,
  OrgsService,
} from '../src';

/** A disabled org accepts no client identified by URL, even one it accepted and cached before, and is not advertised. */
describe('clients identified by URL in a disabled org', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let fetches = 0;

  beforeAll(async () => {
    db = await createTestDatabase('client-metadata-disabled');
    ds = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'client-metadata-disabled-test'),
    ).initialize();
    await migrateDomainSchema(ds, 'identity');
    await new ClientsService(ds, new KeyedHasher(randomBytes(32))).ensureOrg('acme', 'Acme');
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('refuses the client without fetching, and the server no longer says it supports client URLs', async () => {
    const settings = new ClientMetadataSettings(ds);
    const url = 'https://client.example/client.json';
    const fakeFetch = (async () => {
      fetches++;
      return new Response(
        JSON.stringify({
          client_id: url,
          redirect_uris: ['https://client.example/cb'],
          token_endpoint_auth_method: 'none',
        }),
        { status: 200 },
      );
    }) as typeof fetch;
    const clients = new MetadataDocumentClients(ds, settings, fakeFetch, {
      allowLoopback: false,
      allowedPorts: [443],
    });
    await settings.set('acme', {
      enabled: true,
      allowedClients: ['client.example'],
      maxScopes: ['providers:read'],
    });
    expect(await clients.resolve(url)).toMatchObject({ orgId: 'acme', kind: 'metadata_document' });
    expect(fetches).toBe(1);
    expect(await settings.anyEnabled()).toBe(true);

    expect(await new OrgsService(ds).disable('acme')).toBe(true);
    const refused = await clients.resolve(url).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(OAuthError);
    expect(refused).toMatchObject({
      error: 'invalid_client',
      description: expect.stringMatching(/no organisation/),
    });
    expect(fetches).toBe(1);
    expect(await settings.anyEnabled()).toBe(false);
  });
});
