import { adapterFor, type AdapterClient, type ResolvedProvider } from '../../src';
import { BOX_CLIENT, boxProviderAt, startBoxFake } from '../fakes/box';
import { bodyOf, type OAuthFake } from '../fakes/oauth-fake';
import { clientAtFake } from '../support/fake-client';
import { must } from '../support/must';

/** Box adapter against a Box fake: the catalogue's Box provider with api.box.com / account.box.com rewritten to the fake. */
describe('Box adapter (single-use refresh tokens)', () => {
  let fake: OAuthFake;
  let provider: ResolvedProvider;
  const adapter = adapterFor('box');
  const redirectUri = 'https://broker.example.test/callback';
  const client = (): AdapterClient => clientAtFake(provider, fake, BOX_CLIENT);

  beforeAll(async () => {
    fake = await startBoxFake();
    provider = boxProviderAt(fake);
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('reports mandatory rotation and revocation, no PKCE', () => {
    expect(adapter.capabilities(provider)).toEqual({
      pkce: false,
      refreshRotation: true,
      revocation: true,
      deviceFlow: false,
      selfHosted: false,
      userInfo: true,
      validate: true,
      consentPrompt: 'unsupported',
      refreshTokenIdleSeconds: 5_184_000,
    });
  });

  it('every refresh returns a new refresh token; reusing a used one is invalid_grant at once', async () => {
    const first = await adapter.exchangeCode(client(), {
      code: fake.grantCode({ redirectUri }),
      redirectUri,
    });
    expect(bodyOf(fake.requestsTo('/oauth2/token')[0])).toMatchObject({
      client_id: BOX_CLIENT.id,
      client_secret: BOX_CLIENT.secret,
      grant_type: 'authorization_code',
    });
    const second = await adapter.refresh(client(), must(first.refreshToken));
    const third = await adapter.refresh(client(), must(second.refreshToken));
    expect(new Set([first.refreshToken, second.refreshToken, third.refreshToken]).size).toBe(3);
    const reused = await adapter.refresh(client(), must(first.refreshToken)).catch((e: Error) => e);
    expect(reused).toMatchObject({ kind: 'invalid_grant' });
    expect((reused as Error).message).not.toContain(must(first.refreshToken));
    await expect(adapter.refresh(client(), must(second.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
    await expect(adapter.refresh(client(), must(third.refreshToken))).resolves.toMatchObject({
      refreshToken: expect.any(String),
    });
  });

  it('revokes at /oauth2/revoke with client_id, client_secret and token in the body', async () => {
    const tokens = await adapter.exchangeCode(client(), {
      code: fake.grantCode({ redirectUri }),
      redirectUri,
    });
    expect(
      await adapter.revoke(client(), { value: must(tokens.refreshToken), hint: 'refresh_token' }),
    ).toEqual({ revoked: true });
    const [req] = fake.requestsTo('/oauth2/revoke');
    expect(req.headers.authorization).toBeUndefined();
    expect(bodyOf(req)).toEqual({
      client_id: BOX_CLIENT.id,
      client_secret: BOX_CLIENT.secret,
      token: tokens.refreshToken,
      token_type_hint: 'refresh_token',
    });
  });

  it('reads /2.0/users/me (login is the e-mail) and validates', async () => {
    const at = fake.accessToken();
    const user = await adapter.userInfo(client(), at);
    expect(user).toMatchObject({
      sub: '11446498',
      name: 'Aaron Levie',
      email: 'ceo@example.com',
      locale: 'en',
      picture: 'https://www.box.com/api/avatar/large/181216415',
    });
    expect(user.nickName).toBeUndefined();
    expect(await adapter.validate(client(), at)).toEqual({ valid: true });
    expect(await adapter.validate(client(), 'nope')).toMatchObject({ valid: false });
  });
});
