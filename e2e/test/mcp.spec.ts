import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { ClientCredentials } from '@broker/identity';
import { APP_REDIRECT, BrokerSystem } from './broker-system';
import { freePort } from './service-processes';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** The part of a `WWW-Authenticate: Bearer` challenge named `name`. */
function challengeParam(header: string | null, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(header ?? '')?.[1];
}

function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/**
 * An MCP-style client flow against the running broker as the authorization server: an MCP server
 * (a small resource server in this process, as an MCP server would be) answers 401 pointing at its
 * RFC 9728 metadata, which names the broker; the client authorizes with RFC 8707 `resource` and gets
 * a token bound to the MCP server (refused by the broker's own API); a tool needing more scope
 * answers 403 `insufficient_scope` with the scope, the client steps up, and the MCP server then
 * exchanges the user's token (RFC 8693) for the user's provider token within its consumer policy.
 */
describe('MCP-style client flow: RFC 9728 discovery, RFC 8707 audience-bound tokens, step-up', () => {
  let mcpPort: number;
  let mcpUrl: string;
  let system: BrokerSystem;
  let mcpServer: Server;
  let mcpClient: ClientCredentials; // the MCP server's own credentials at the broker (introspection, exchange)
  let app: ClientCredentials; // the MCP client (an app people sign in through)
  let providerId: string;

  /** The MCP server: checks tokens by RFC 7662 introspection at the broker (audience = itself), one tool per scope. */
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const metadataUrl = `http://127.0.0.1:${mcpPort}/.well-known/oauth-protected-resource/mcp`;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    if (req.method === 'GET' && req.url === '/.well-known/oauth-protected-resource/mcp') {
      return send(200, {
        resource: mcpUrl,
        authorization_servers: [system.base],
        scopes_supported: ['providers:read', 'tokens:read'],
        bearer_methods_supported: ['header'],
      });
    }
    if (req.method !== 'POST' || !req.url?.startsWith('/mcp/tools/')) return send(404, {});
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const unauthorized = () =>
      send(
        401,
        { error: 'invalid_token' },
        { 'www-authenticate': `Bearer resource_metadata="${metadataUrl}"` },
      );
    if (!token) return unauthorized();
    const introspected = (await (
      await system.tokenRequest(
        { token, client_id: mcpClient.clientId, client_secret: mcpClient.clientSecret },
        { path: '/api/v1/oauth/introspect' },
      )
    ).json()) as { active: boolean; aud?: string; scope?: string; sub?: string };
    // A token for another resource (the broker's API, another MCP server) is not accepted here.
    if (!introspected.active || introspected.aud !== mcpUrl) return unauthorized();
    const scopes = (introspected.scope ?? '').split(' ');
    const tool = req.url.slice('/mcp/tools/'.length);
    const needs = tool === 'whoami' ? 'providers:read' : 'tokens:read';
    if (!scopes.includes(needs)) {
      return send(
        403,
        { error: 'insufficient_scope' },
        {
          'www-authenticate': `Bearer error="insufficient_scope", scope="${[...new Set([...scopes.filter((s) => s !== 'openid'), needs])].join(' ')}", resource_metadata="${metadataUrl}"`,
        },
      );
    }
    if (tool === 'whoami') return send(200, { sub: introspected.sub });
    // The provider tool: the user's provider token, by token exchange with the MCP server's own credentials.
    const exchanged = await system.tokenRequest({
      grant_type: EXCHANGE,
      client_id: mcpClient.clientId,
      client_secret: mcpClient.clientSecret,
      subject_token: token,
      subject_token_type: ACCESS_TOKEN,
      resource: `urn:broker:provider:${providerId}`,
    });
    const answer = (await exchanged.json()) as { access_token?: string; error?: string };
    if (!answer.access_token) return send(502, { error: answer.error });
    const me = (await (
      await fetch(`${system.idp.issuer}/me`, { headers: { authorization: `Bearer ${answer.access_token}` } })
    ).json()) as { email?: string };
    return send(200, { providerAccount: me.email });
  };

  beforeAll(async () => {
    mcpPort = await freePort();
    mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;
    system = new BrokerSystem({ label: 'mcp', providerClient: true, env: { RESOURCE_SERVERS: mcpUrl } });
    mcpServer = createServer((req, res) => void handle(req, res).catch(() => res.writeHead(500).end()));
    await new Promise<void>((resolve) => mcpServer.listen(mcpPort, '127.0.0.1', resolve));
    await system.start();
    const admin = await system.adminToken();
    providerId = await system.registerDemoProvider(admin);
    await system.users.upsert('default', { sub: 'alice', email: 'alice@example.test' }, [
      'providers:read',
      'tokens:read',
      'authorizations:read',
      'authorizations:write',
    ]);
    const alice = await system.delegatedToken(admin, 'alice', [
      'authorizations:read',
      'authorizations:write',
    ]);
    await system.linkAccount(alice, providerId, 'alice@example.test');
    app = await system.createClient({
      orgId: 'default',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['providers:read', 'tokens:read'],
      redirectUris: [APP_REDIRECT],
    });
    mcpClient = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: ['tokens:read'],
    });
    // The MCP server may be served the provider tokens of the user it acts for, nothing else.
    const granted = await system.api(
      `/api/v1/oauth/admin/clients/${mcpClient.clientId}/token-grants`,
      admin,
      { method: 'POST', body: { providers: '*', subjects: { mode: 'self' } } },
    );
    expect(granted.status).toBe(201);
  });

  afterAll(async () => {
    await system.stop();
    await new Promise((resolve) => mcpServer.close(resolve));
  });

  it('publishes RFC 9728 metadata for the broker’s own API, and points 401s there', async () => {
    const res = await fetch(`${system.base}/.well-known/oauth-protected-resource/api`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      resource: `${system.base}/api`,
      authorization_servers: [system.base],
      bearer_methods_supported: ['header'],
    });
    const unauth = await system.api('/api/v2/externalOAuth/providers/', undefined);
    expect(unauth.status).toBe(401);
    expect(challengeParam(unauth.headers.get('www-authenticate'), 'resource_metadata')).toBe(
      `${system.base}/.well-known/oauth-protected-resource/api`,
    );
  });

  it('discovery → authorization with resource → audience-bound token → step-up on insufficient_scope → the provider token by exchange', async () => {
    // 1. The MCP server says where its metadata is; the metadata names the broker.
    const first = await fetch(`${mcpUrl}/tools/whoami`, { method: 'POST' });
    expect(first.status).toBe(401);
    const metadataUrl = challengeParam(first.headers.get('www-authenticate'), 'resource_metadata') ?? '';
    const prm = (await (await fetch(metadataUrl)).json()) as {
      resource: string;
      authorization_servers: string[];
    };
    expect(prm.resource).toBe(mcpUrl);
    const config = await oidc.discovery(
      new URL(prm.authorization_servers[0]),
      app.clientId,
      { id_token_signed_response_alg: 'ES256' },
      oidc.ClientSecretPost(app.clientSecret),
      { execute: [oidc.allowInsecureRequests] },
    );
    expect(config.serverMetadata().issuer).toBe(system.base);

    // 2. Authorization with `resource`: the token is bound to the MCP server.
    const tokens = await system.userTokens(app, 'alice@example.test', 'openid providers:read', {
      resource: prm.resource,
    });
    expect(jwtPayload(tokens.access_token)['aud']).toBe(mcpUrl);
    const ok = await fetch(`${mcpUrl}/tools/whoami`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sub: 'alice' });
    // Audience-bound: the broker's own API does not take it.
    expect((await system.api('/api/v2/externalOAuth/providers/', tokens.access_token)).status).toBe(401);

    // 3. A tool needing more: 403 insufficient_scope naming the scopes; the client steps up.
    const more = await fetch(`${mcpUrl}/tools/provider-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(more.status).toBe(403);
    const header = more.headers.get('www-authenticate');
    expect(challengeParam(header, 'error')).toBe('insufficient_scope');
    const needed = challengeParam(header, 'scope') ?? '';
    expect(needed.split(' ')).toContain('tokens:read');
    const stepped = await system.userTokens(app, 'alice@example.test', `openid ${needed}`, {
      resource: prm.resource,
    });
    expect(stepped.scope.split(' ')).toEqual(expect.arrayContaining(['providers:read', 'tokens:read']));
    expect(jwtPayload(stepped.access_token)['aud']).toBe(mcpUrl);

    // 4. Now the MCP server exchanges the user's token for the user's provider token.
    const done = await fetch(`${mcpUrl}/tools/provider-token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stepped.access_token}` },
    });
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ providerAccount: 'alice@example.test' });

    // 5. A refresh keeps the audience.
    const refreshed = await system.tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: stepped.refresh_token,
      client_id: app.clientId,
      client_secret: app.clientSecret,
    });
    expect(refreshed.status).toBe(200);
    expect(jwtPayload(((await refreshed.json()) as { access_token: string }).access_token)['aud']).toBe(
      mcpUrl,
    );
  });

  it('refuses an unknown resource (invalid_target at authorize and token) and a different resource than the grant’s', async () => {
    const { callback } = await system.signIn(app, 'alice@example.test', 'openid providers:read', {
      resource: 'https://evil.example/mcp',
    });
    expect(callback.searchParams.get('error')).toBe('invalid_target');
    expect(callback.searchParams.get('code')).toBeNull();

    const cc = await system.tokenRequest({
      grant_type: 'client_credentials',
      client_id: mcpClient.clientId,
      client_secret: mcpClient.clientSecret,
      resource: 'https://evil.example/mcp',
    });
    expect(cc.status).toBe(400);
    expect(await cc.json()).toMatchObject({ error: 'invalid_target' });

    // A code granted for the MCP server cannot be redeemed for the broker's API.
    const { callback: back, verifier } = await system.signIn(
      app,
      'alice@example.test',
      'openid providers:read',
      { resource: mcpUrl },
    );
    const redeemed = await system.tokenRequest({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: APP_REDIRECT,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      resource: `${system.base}/api`,
    });
    expect(redeemed.status).toBe(400);
    expect(await redeemed.json()).toMatchObject({ error: 'invalid_target' });
  });
});
