import { DataSource } from 'typeorm';
import type { BrokerEvent } from '@broker/contracts';
import { EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, TestDatabase } from '@broker/testing';
import { AuthorizationLinker, AuthorizationsService, ConsentService, TOKENS_SCHEMA } from '../src';
import { FakeProvider } from './support/fake-provider';

const PROVIDER_ID = '22222222-2222-4222-8222-222222222222';

/**
 * The consent callback against a provider that, like Google without `prompt=consent`, answers a
 * second consent without a refresh token.
 */
describe('ConsentService re-consent', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const provider = new FakeProvider();
  const cipher = new EnvelopeCipher(parseKeyring(`k1:${randomKey().toString('base64')}`));
  const events: BrokerEvent[] = [];
  let authorizations: AuthorizationsService;
  let consent: ConsentService;
  let issued = 0;

  beforeAll(async () => {
    db = await createTestDatabase('consent-lib');
    ds = await new DataSource(domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'consent-test')).initialize();
    await migrateDomainSchema(ds, TOKENS_SCHEMA.schema);
    authorizations = new AuthorizationsService(ds, cipher);
    await provider.start();
    const linker = new AuthorizationLinker(authorizations, fetch, (e) => void events.push(e), 5_000);
    consent = new ConsentService(ds, cipher, async () => provider.credentials(PROVIDER_ID), linker, fetch, {
      defaultRedirectUri: 'http://127.0.0.1/callback',
      startPageUrl: 'http://127.0.0.1/connect/start',
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

  /** Runs authorize → callback for `user`; the provider's token answer includes a refresh token only when asked. */
  async function consentOnce(user: string, withRefreshToken: boolean) {
    issued++;
    const n = issued;
    provider.token = () => ({
      body: {
        access_token: `at-${n}`,
        token_type: 'Bearer',
        expires_in: 3600,
        ...(withRefreshToken ? { refresh_token: `rt-${n}` } : {}),
      },
    });
    const { state } = await consent.authorize(
      'org',
      user,
      PROVIDER_ID,
      undefined,
      'http://127.0.0.1/front-end/callback',
    );
    return consent.complete(
      { orgId: 'org', userId: user },
      { code: `code-${n}`, providerId: PROVIDER_ID, state },
    );
  }

  it('keeps the refresh token of the existing authorization when the provider sends none on re-consent', async () => {
    const first = await consentOnce('grace', true);
    expect(await authorizations.tokens('org', first.authorizedProvider.id)).toMatchObject({
      accessToken: `at-${issued}`,
      refreshToken: `rt-${issued}`,
    });
    const keptRefreshToken = `rt-${issued}`;
    const second = await consentOnce('grace', false);
    expect(second.authorizedProvider.id).toBe(first.authorizedProvider.id);
    expect(second.authorizedProvider.credentialId).not.toBe(first.authorizedProvider.credentialId);
    // The new access token, with the refresh token the user already had (re-encrypted for the new token set).
    expect(await authorizations.tokens('org', first.authorizedProvider.id)).toMatchObject({
      accessToken: `at-${issued}`,
      refreshToken: keptRefreshToken,
    });
    expect(
      events.filter(
        (e) => e.type === 'authorization.created' && e.authorizationId === first.authorizedProvider.id,
      ),
    ).toHaveLength(2);
  });

  it('takes the new refresh token when the provider sends one', async () => {
    const first = await consentOnce('hopper', true);
    await consentOnce('hopper', true);
    expect((await authorizations.tokens('org', first.authorizedProvider.id))?.refreshToken).toBe(
      `rt-${issued}`,
    );
  });

  it('does not revive the refresh token of a dead authorization', async () => {
    const first = await consentOnce('turing', true);
    await ds.query(`UPDATE tokens.authorizations SET status = 'expired' WHERE id = $1`, [
      first.authorizedProvider.id,
    ]);
    const second = await consentOnce('turing', false);
    expect(second.authorizedProvider.status).toBe('active');
    expect(await authorizations.tokens('org', first.authorizedProvider.id)).toMatchObject({
      accessToken: `at-${issued}`,
      refreshToken: null,
    });
  });

  it('a first consent without a refresh token stores none', async () => {
    const only = await consentOnce('lamarr', false);
    expect((await authorizations.tokens('org', only.authorizedProvider.id))?.refreshToken).toBeNull();
  });
});
