import { PROVIDER_TYPES } from '@broker/contracts';
import { adapterFor, resolveProvider, type AdapterClient, type ResolvedProvider } from '../../src';
import { BOX_CLIENT, boxProviderAt, startBoxFake } from '../fakes/box';
import { GITHUB_CLIENT, startGitHubFake } from '../fakes/github';
import { basicCredentials, bodyOf, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';

/**
 * Narrowing (downscoping) against the provider fakes, which reproduce each provider's documented
 * wire format: the fake receives the narrowing request, and the token answered is the narrowed one
 * (a new token the fake honours with the narrower grant), never the parent.
 */
describe('narrowing a token at the provider', () => {
  describe('Box downscoping (RFC 8693 at the token endpoint)', () => {
    let fake: OAuthFake;
    let provider: ResolvedProvider;
    const adapter = adapterFor('box');
    const client = (): AdapterClient => clientAtFake(provider, fake, BOX_CLIENT);

    beforeAll(async () => {
      fake = await startBoxFake();
      provider = boxProviderAt(fake);
    });
    afterAll(() => fake.close());
    beforeEach(() => fake.reset());

    it('declares scopes as what it narrows, and mints a downscoped token the fake receives and honours', async () => {
      expect(adapter.narrowing?.(provider)).toEqual(['scopes']);
      const parent = fake.accessToken('ada', 'root_readwrite');
      const narrowed = await adapter.narrow?.(client(), parent, {
        scopes: ['item_preview', 'item_download'],
      });
      const [req] = fake.requestsTo('/oauth2/token');
      expect(bodyOf(req)).toMatchObject({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: parent,
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        scope: 'item_preview item_download',
      });
      expect(bodyOf(req)['client_secret']).toBeUndefined(); // Box's downscoping takes no client secret
      expect(narrowed).toMatchObject({
        enforced: ['scopes'],
        scopes: ['item_preview', 'item_download'],
        tokenType: 'Bearer',
      });
      expect(narrowed?.accessToken).not.toBe(parent);
      expect(fake.accessTokens.get(narrowed?.accessToken ?? '')).toMatchObject({
        alive: true,
        scope: 'item_preview item_download',
      });
      expect(narrowed?.expiresAt?.getTime()).toBeGreaterThan(Date.now());
    });

    it('narrows nothing it cannot (repositories only: null, no call), and maps a refused parent to invalid_grant', async () => {
      expect(await adapter.narrow?.(client(), fake.accessToken(), { repositories: ['a/b'] })).toBeNull();
      expect(fake.requestsTo('/oauth2/token')).toHaveLength(0);
      const refused = await adapter
        .narrow?.(client(), 'unknown-parent', { scopes: ['item_preview'] })
        .catch((e: Error) => e);
      expect(refused).toMatchObject({ kind: 'invalid_grant' });
      expect((refused as Error).message).not.toContain('unknown-parent');
    });
  });

  describe('GitHub scoped user tokens (GitHub App)', () => {
    let fake: OAuthFake & { formAlways: boolean };
    let provider: ResolvedProvider;
    const adapter = adapterFor('github');
    const client = (): AdapterClient => clientAtFake(provider, fake, GITHUB_CLIENT);
    const scopedPath = `/api/v3/applications/${GITHUB_CLIENT.id}/token/scoped`;

    beforeAll(async () => {
      fake = await startGitHubFake();
      provider = resolveProvider(
        'github',
        { baseUrl: fake.origin },
        { allowLoopback: true, allowedPorts: [fake.server.port] },
      );
    });
    afterAll(() => fake.close());
    beforeEach(() => fake.reset());

    it('declares repositories and permissions, and mints a token limited to one account’s repositories and permissions', async () => {
      expect(adapter.narrowing?.(provider)).toEqual(['repositories', 'permissions']);
      const parent = fake.accessToken('octocat');
      const narrowed = await adapter.narrow?.(client(), parent, {
        repositories: ['octo-org/api', 'octo-org/web'],
        permissions: { contents: 'read' },
      });
      const [req] = fake.requestsTo(scopedPath);
      expect(basicCredentials(req)).toEqual([GITHUB_CLIENT.id, GITHUB_CLIENT.secret]);
      expect(JSON.parse(req.body)).toEqual({
        access_token: parent,
        target: 'octo-org',
        repositories: ['api', 'web'],
        permissions: { contents: 'read' },
      });
      expect(narrowed).toMatchObject({ enforced: ['repositories', 'permissions'], tokenType: 'Bearer' });
      expect(narrowed?.accessToken).toMatch(/^ghu_scoped-/);
      expect(fake.accessTokens.get(narrowed?.accessToken ?? '')?.alive).toBe(true);
      expect(narrowed?.expiresAt?.getTime()).toBeGreaterThan(Date.now());
    });

    it('takes the only installation as the account for permissions alone; refuses repositories of several owners without a call', async () => {
      const parent = fake.accessToken('octocat');
      const narrowed = await adapter.narrow?.(client(), parent, { permissions: { issues: 'write' } });
      expect(narrowed?.enforced).toEqual(['permissions']);
      expect(JSON.parse(fake.requestsTo(scopedPath)[0].body)).toMatchObject({
        target: 'octo-org',
        permissions: { issues: 'write' },
      });
      fake.reset();
      await expect(
        adapter.narrow?.(client(), parent, { repositories: ['a/x', 'b/y'] }),
      ).rejects.toMatchObject({ kind: 'rejected' });
      expect(fake.requestsTo(scopedPath)).toHaveLength(0);
      // Scopes alone: GitHub App tokens have none to narrow.
      expect(await adapter.narrow?.(client(), parent, { scopes: ['repo'] })).toBeNull();
    });

    it('reports an OAuth app’s token (which GitHub will not scope) as rejected, without the token in the message', async () => {
      const parent = fake.accessToken('oauth-app-user');
      const refused = await adapter
        .narrow?.(client(), parent, { repositories: ['octo-org/api'] })
        .catch((e: Error) => e);
      expect(refused).toMatchObject({ kind: 'rejected' });
      expect((refused as Error).message).not.toContain(parent);
    });
  });

  it('other providers declare nothing they can narrow', () => {
    for (const type of PROVIDER_TYPES.filter((t) => t !== 'box' && t !== 'github')) {
      const adapter = adapterFor(type);
      expect(adapter.narrow).toBeUndefined();
      expect(adapter.narrowing).toBeUndefined();
    }
  });
});
