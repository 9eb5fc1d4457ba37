import {
  adapterFor,
  createGuardedFetch,
  fromExplicitEndpoints,
  GuardedFetch,
  resolveProvider,
  type ResolvedProvider,
} from '../src';
import { startServer, TestServer } from './support/servers';

/** One revocation through the provider's adapter (the only door), as the worker and the unlink path call it. */
function revokeToken(input: {
  provider: ResolvedProvider;
  clientId: string;
  clientSecret: string;
  token: string;
  tokenTypeHint?: 'refresh_token' | 'access_token';
  fetch: typeof fetch;
  timeoutMs?: number;
}) {
  const { token, tokenTypeHint, ...client } = input;
  return adapterFor(input.provider).revoke(client, { value: token, hint: tokenTypeHint });
}

describe('revocation through adapterFor(provider).revoke', () => {
  let server: TestServer;
  let fetchImpl: GuardedFetch;
  let status = 200;
  let delayMs = 0;

  beforeAll(async () => {
    server = await startServer((_req, res) =>
      setTimeout(
        () =>
          status === 400
            ? res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}')
            : res.writeHead(status).end(),
        delayMs,
      ),
    );
    fetchImpl = createGuardedFetch({ allowLoopback: true, allowedPorts: [server.port] });
  });

  afterAll(async () => {
    await fetchImpl.close();
    await server.close();
  });

  beforeEach(() => {
    server.requests.length = 0;
    status = 200;
    delayMs = 0;
  });

  const rfc7009 = (method: 'client_secret_basic' | 'client_secret_post'): ResolvedProvider => ({
    ...fromExplicitEndpoints({
      authorizationUrl: `${server.origin}/a`,
      tokenUrl: `${server.origin}/t`,
      revocationUrl: `${server.origin}/revoke`,
    }),
    tokenEndpointAuthMethod: method,
  });

  it('posts an RFC 7009 revocation with the type hint and Basic client authentication', async () => {
    const outcome = await revokeToken({
      provider: rfc7009('client_secret_basic'),
      clientId: 'app id',
      clientSecret: 's3cr:t',
      token: 'rt-1',
      tokenTypeHint: 'refresh_token',
      fetch: fetchImpl,
    });
    expect(outcome).toEqual({ revoked: true });
    const [req] = server.requests;
    expect(req.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      token: 'rt-1',
      token_type_hint: 'refresh_token',
    });
    const [id, secret] = Buffer.from(String(req.headers.authorization).slice(6), 'base64')
      .toString()
      .split(':')
      .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
    expect([id, secret]).toEqual(['app id', 's3cr:t']);
  });

  it('sends the client credentials in the body for client_secret_post providers', async () => {
    await revokeToken({
      provider: rfc7009('client_secret_post'),
      clientId: 'app',
      clientSecret: 'sec',
      token: 'at-1',
      fetch: fetchImpl,
    });
    const [req] = server.requests;
    expect(req.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(new URLSearchParams(req.body))).toEqual({
      token: 'at-1',
      client_id: 'app',
      client_secret: 'sec',
    });
  });

  it('reports a refusal or a timeout without throwing, and never echoes the token or secret', async () => {
    status = 400;
    const refused = await revokeToken({
      provider: rfc7009('client_secret_basic'),
      clientId: 'app',
      clientSecret: 'sec',
      token: 'rt-x',
      fetch: fetchImpl,
    });
    expect(refused).toEqual({ revoked: false, error: 'the provider refused: invalid_client' });
    status = 200;
    delayMs = 500;
    const slow = await revokeToken({
      provider: rfc7009('client_secret_basic'),
      clientId: 'app',
      clientSecret: 'sec',
      token: 'rt-y',
      fetch: fetchImpl,
      timeoutMs: 100,
    });
    expect(slow).toEqual({ revoked: false, error: 'the provider did not answer in time' });
    expect(JSON.stringify([refused, slow])).not.toMatch(/rt-x|rt-y|sec/);
  });

  it('uses GitHub’s grant API (DELETE, Basic, JSON body) and does not count an ambiguous 404 as revoked', async () => {
    const github: ResolvedProvider = {
      ...resolveProvider('github', {}),
      revocation: { kind: 'github-grant' as const, url: `${server.origin}/applications/{client_id}/grant` },
    };
    status = 204;
    expect(
      await revokeToken({
        provider: github,
        clientId: 'Iv1.abc',
        clientSecret: 'sec',
        token: 'gho_1',
        fetch: fetchImpl,
      }),
    ).toEqual({ revoked: true });
    const [req] = server.requests;
    expect(req.method).toBe('DELETE');
    expect(req.url).toBe('/applications/Iv1.abc/grant');
    expect(JSON.parse(req.body)).toEqual({ access_token: 'gho_1' });
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('Iv1.abc:sec').toString('base64')}`);
    status = 404;
    expect(
      await revokeToken({
        provider: github,
        clientId: 'Iv1.abc',
        clientSecret: 'sec',
        token: 'gho_1',
        fetch: fetchImpl,
      }),
    ).toEqual({
      revoked: false,
      error: 'GitHub answered 404: the grant is already gone, or the app’s client credentials are wrong',
    });
    status = 422;
    expect(
      await revokeToken({
        provider: github,
        clientId: 'Iv1.abc',
        clientSecret: 'sec',
        token: 'gho_1',
        fetch: fetchImpl,
      }),
    ).toEqual({ revoked: false, error: 'GitHub answered 422' });
  });

  it('says unsupported, without a call, for providers with no revocation API (Bitbucket, Microsoft)', async () => {
    for (const type of ['bitbucket', 'microsoft'] as const) {
      const outcome = await revokeToken({
        provider: resolveProvider(type, {}),
        clientId: 'a',
        clientSecret: 'b',
        token: 'c',
        fetch: fetchImpl,
      });
      expect(outcome).toEqual({ revoked: false, unsupported: true });
    }
    expect(server.requests).toHaveLength(0);
  });
});
