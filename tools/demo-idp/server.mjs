#!/usr/bin/env node
// A demo upstream identity provider for local use and tests: panva's oidc-provider on loopback,
// with one confidential client (the broker's gateway) and a sign-in page that accepts any e-mail
// address (no password: it is a demo, never expose it). People who sign in get a stable subject
// derived from their e-mail address. It prints one line, `demo-idp ready <issuer>`, when it listens.
// It can also play an external OAuth provider for the broker (extra clients with rotating refresh
// tokens, revocation, introspection, userinfo, device flow) with faults injected by tests.
//
// Environment:
//   DEMO_IDP_PORT              port on 127.0.0.1 (default 3104)
//   DEMO_IDP_CLIENT_ID         the broker's client id at this provider (default broker-gateway)
//   DEMO_IDP_CLIENT_SECRET     its secret (required unless DEMO_IDP_CLIENTS is set)
//   DEMO_IDP_REDIRECT_URIS     space-separated callback URLs of the broker (required unless DEMO_IDP_CLIENTS is set)
//   DEMO_IDP_CLIENTS           JSON array of more ("provider") clients: { client_id, client_secret,
//                              redirect_uris, grant_types? (default ["authorization_code","refresh_token"];
//                              also "urn:ietf:params:oauth:grant-type:device_code"),
//                              token_endpoint_auth_method? (client_secret_basic (default) | client_secret_post) }
//   DEMO_IDP_ACCESS_TOKEN_TTL  access token lifetime in seconds (default 3600)
//   DEMO_IDP_REFRESH_TOKEN_TTL refresh token lifetime in seconds (default 14 days)
//   DEMO_IDP_DEVICE_INTERVAL   polling interval announced by the device authorization endpoint (default 5)
//   DEMO_IDP_TEST_HOOKS        "1" enables the test control API under /__test/ (see test-hooks.mjs)
//   DEMO_IDP_DATA_DIR          keep grants, tokens, sessions, accounts and keys in <dir>/state.json
//                              across restarts (npm start: .data/demo-idp); unset: memory only
//
// Clients with the refresh_token grant get a refresh token with every code (no offline_access
// needed); it rotates on every use, and presenting a spent one revokes the whole grant. PKCE is
// required. Access tokens are opaque. Nothing secret (tokens, codes, client secrets) is printed.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { createMemoryStore } from './memory-store.mjs';
import { stateFile } from './persistence.mjs';
import { installTestHooks } from './test-hooks.mjs';
import { createInteraction, escapeHtml, page } from './pages.mjs';
import {
  accessTokenTtl,
  clients,
  deviceInterval,
  issuer,
  port,
  refreshClients,
  refreshTokenTtl,
  testHooks,
} from './settings.mjs';

/** People who signed in, by subject (kept in the state file when there is one). */
const accounts = new Map();

const persisted = process.env.DEMO_IDP_DATA_DIR ? stateFile(process.env.DEMO_IDP_DATA_DIR, (m) => console.error(`demo-idp: ${m}`)) : null;
const saved = persisted?.load() ?? null;
for (const [sub, claims] of Object.entries(saved?.accounts ?? {})) accounts.set(sub, claims);
const keys = saved?.keys ?? {
  signing: { ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), use: 'sig', alg: 'RS256' },
  cookies: [randomBytes(32).toString('base64url')],
};
const save = () => persisted?.save({ keys, accounts: Object.fromEntries(accounts), entries: store.snapshot() });
const store = createMemoryStore({ onChange: save });
if (saved) store.restore(saved.entries);
save();
const provider = new Provider(issuer, {
  adapter: store.Adapter,
  clients,
  jwks: { keys: [keys.signing] },
  cookies: { keys: keys.cookies },
  pkce: { required: () => true },
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    DeviceCode: 600,
    IdToken: 3600,
    RefreshToken: refreshTokenTtl,
    Interaction: 600,
    Session: 86_400,
    // Grants outlive the refresh tokens issued under them; the gateway client keeps its one day.
    Grant: (_ctx, grant) => (refreshClients.has(grant?.clientId) ? Math.max(86_400, refreshTokenTtl) : 86_400),
  },
  // Every client allowed the refresh_token grant gets one with its code, offline_access or not.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    introspection: {
      enabled: true,
      // Confidential clients may introspect any token; public ones only their own.
      allowedPolicy: async (_ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId,
    },
    revocation: {
      enabled: true,
      allowedPolicy: async (_ctx, client, token) => {
        if (token.clientId === client.clientId) return true;
        throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
      },
    },
    deviceFlow: {
      enabled: true,
      async userCodeInputSource(ctx, form, _out, err) {
        const message = err ? '<p><strong>That code did not work.</strong> Check it and try again.</p>' : '<p>Enter the code shown on your device.</p>';
        ctx.type = 'html';
        ctx.body = page('Connect a device (demo)', `<h1>Connect a device</h1>${message}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`);
      },
      async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
        ctx.type = 'html';
        ctx.body = page(
          'Connect a device (demo)',
          `<h1>Connect a device</h1><p><strong>${escapeHtml(client.clientName || client.clientId)}</strong> asks to sign in. Check that your device shows this code:</p>
<p><code>${escapeHtml(userCode)}</code></p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Cancel</button>`,
        );
      },
      async successSource(ctx) {
        ctx.type = 'html';
        ctx.body = page('Device connected (demo)', '<h1>Device connected</h1><p>You can close this page and return to your device.</p>');
      },
    },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'zoneinfo'] },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page(
      'Error (demo)',
      `<h1>Something went wrong</h1><p>${escapeHtml(out.error)}${out.error_description ? `: ${escapeHtml(out.error_description)}` : ''}</p>`,
    );
  },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account }) };
  },
});
// RFC 8628 makes `interval` optional (default 5 s); oidc-provider leaves it out: say it explicitly.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object' && !('interval' in ctx.body)) {
    ctx.body = { ...ctx.body, interval: deviceInterval };
  }
});
const providerHandler = provider.callback();
provider.on('server_error', (ctx, err) => console.error(`demo-idp: server error on ${ctx?.method ?? ''} ${ctx?.path ?? ''}: ${err?.name ?? 'Error'}: ${err?.message ?? err}`));

const interaction = createInteraction(provider, accounts, save);

const hooks = testHooks
  ? installTestHooks({ provider, handler: providerHandler, grantIds: () => store.grantIds(), log: (message) => console.error(`demo-idp: ${message}`) })
  : null;
const tokenPath = provider.pathFor('token');

const server = createServer((req, res) => {
  const { pathname } = new URL(req.url ?? '/', issuer);
  if (hooks) {
    if (pathname === '/__test' || pathname.startsWith('/__test/')) return void hooks.control(req, res, pathname);
    if (pathname === tokenPath && req.method === 'POST') {
      return void hooks.token(req, res).catch((err) => {
        console.error(`demo-idp: token request handling failed: ${err?.message ?? err}`);
        if (!res.headersSent) res.destroy();
      });
    }
    hooks.observe(req, res, pathname);
  }
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|deny))?$/.exec(pathname);
  if (!match) return providerHandler(req, res);
  interaction(req, res, match[1], match[2]).catch((err) => {
    console.error(`demo-idp: interaction failed: ${err?.message ?? err}`);
    if (!res.headersSent) res.statusCode = 400;
    res.end(page('Sign in (demo)', '<p>This sign-in has expired. Start again from the application.</p>'));
  });
});

server.listen(port, '127.0.0.1', () => {
  if (hooks) console.error('demo-idp: test hooks enabled under /__test/ (never use this outside tests)');
  if (persisted) console.error(`demo-idp: state kept in ${persisted.file} (${saved ? `${saved.entries.length} entries restored` : 'new'})`);
  console.log(`demo-idp ready ${issuer}`);
});
const stop = () => {
  hooks?.stop();
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
