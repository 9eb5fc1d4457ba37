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
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { createMemoryStore } from './memory-store.mjs';
import { stateFile } from './persistence.mjs';
import { installTestHooks } from './test-hooks.mjs';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SUPPORTED_GRANTS = new Set(['authorization_code', 'refresh_token', DEVICE_CODE_GRANT]);
const SUPPORTED_AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post']);

function fail(message) {
  console.error(`demo-idp: ${message}`);
  process.exit(1);
}

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 366 * 86_400) fail(`${name} must be a whole number of seconds (1 to 31622400)`);
  return value;
}

/** The extra clients of DEMO_IDP_CLIENTS, checked (messages name fields, never values). */
function providerClients(raw) {
  if (!raw) return [];
  let list;
  try {
    list = JSON.parse(raw);
  } catch {
    fail('DEMO_IDP_CLIENTS is not valid JSON');
  }
  if (!Array.isArray(list)) fail('DEMO_IDP_CLIENTS must be a JSON array of clients');
  return list.map((c, i) => {
    const where = `DEMO_IDP_CLIENTS[${i}]`;
    if (typeof c !== 'object' || c === null) fail(`${where} must be an object`);
    if (typeof c.client_id !== 'string' || !c.client_id) fail(`${where}.client_id is required`);
    if (typeof c.client_secret !== 'string' || !c.client_secret) fail(`${where}.client_secret is required`);
    const grantTypes = c.grant_types ?? ['authorization_code', 'refresh_token'];
    if (!Array.isArray(grantTypes) || grantTypes.length === 0 || grantTypes.some((g) => !SUPPORTED_GRANTS.has(g)))
      fail(`${where}.grant_types must list some of ${[...SUPPORTED_GRANTS].join(', ')}`);
    const code = grantTypes.includes('authorization_code');
    const redirectUris = c.redirect_uris ?? [];
    if (!Array.isArray(redirectUris) || redirectUris.some((u) => typeof u !== 'string') || (code && redirectUris.length === 0))
      fail(`${where}.redirect_uris must be an array of URLs (at least one with the authorization_code grant)`);
    const authMethod = c.token_endpoint_auth_method ?? 'client_secret_basic';
    if (!SUPPORTED_AUTH_METHODS.has(authMethod)) fail(`${where}.token_endpoint_auth_method must be one of ${[...SUPPORTED_AUTH_METHODS].join(', ')}`);
    return {
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: redirectUris,
      grant_types: [...new Set(grantTypes)],
      response_types: code ? ['code'] : [],
      token_endpoint_auth_method: authMethod,
    };
  });
}

const port = Number(process.env.DEMO_IDP_PORT ?? 3104);
const clientId = process.env.DEMO_IDP_CLIENT_ID ?? 'broker-gateway';
const clientSecret = process.env.DEMO_IDP_CLIENT_SECRET;
const redirectUris = (process.env.DEMO_IDP_REDIRECT_URIS ?? '').split(/\s+/).filter(Boolean);
const extraClients = providerClients(process.env.DEMO_IDP_CLIENTS);
const gatewayClient = Boolean(clientSecret && redirectUris.length > 0);
if (!gatewayClient && (extraClients.length === 0 || clientSecret || redirectUris.length > 0)) {
  fail('DEMO_IDP_CLIENT_SECRET and DEMO_IDP_REDIRECT_URIS are required');
}
const accessTokenTtl = seconds('DEMO_IDP_ACCESS_TOKEN_TTL', 3600);
const refreshTokenTtl = seconds('DEMO_IDP_REFRESH_TOKEN_TTL', 14 * 86_400);
const deviceInterval = seconds('DEMO_IDP_DEVICE_INTERVAL', 5);
const testHooks = process.env.DEMO_IDP_TEST_HOOKS === '1';
const issuer = `http://127.0.0.1:${port}`;

const clients = [
  ...(gatewayClient
    ? [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ]
    : []),
  ...extraClients,
];
const refreshClients = new Set(clients.filter((c) => c.grant_types.includes('refresh_token')).map((c) => c.client_id));
if (new Set(clients.map((c) => c.client_id)).size !== clients.length) fail('client ids must be unique (DEMO_IDP_CLIENT_ID and DEMO_IDP_CLIENTS)');

/** People who signed in, by subject (kept in the state file when there is one). */
const accounts = new Map();

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;font:inherit}button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit}code{font-size:1.6rem}</style>
</head><body>${body}</body></html>`;
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

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

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      page(
        'Sign in (demo)',
        `<h1>Sign in</h1><p>Demo identity provider: any e-mail address signs you in.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="email">E-mail</label><input id="email" name="email" type="email" required value="ada@example.test">
<label for="given_name">Given name</label><input id="given_name" name="given_name" value="Ada">
<label for="family_name">Family name</label><input id="family_name" name="family_name" value="Lovelace">
<button type="submit">Sign in</button></form>
<form method="post" action="/interaction/${escapeHtml(uid)}/deny"><button type="submit">Decline</button></form>`,
      ),
    );
    return;
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const email = (form.get('email') ?? '').trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      res.statusCode = 400;
      res.end(page('Sign in (demo)', '<p>Enter an e-mail address.</p>'));
      return;
    }
    const sub = `demo-${createHash('sha256').update(email).digest('hex').slice(0, 20)}`;
    const givenName = form.get('given_name')?.trim() || null;
    const familyName = form.get('family_name')?.trim() || null;
    accounts.set(sub, {
      email,
      email_verified: true,
      given_name: givenName,
      family_name: familyName,
      name: [givenName, familyName].filter(Boolean).join(' ') || email,
    });
    save();
    // The broker is a first-party app of this demo provider: consent is granted with the sign-in.
    const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
    return;
  }
  if (req.method === 'POST' && action === 'deny') {
    // The person refuses: the client gets `error=access_denied` at its redirect URI.
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user declined.' }, { mergeWithLastSubmission: false });
    return;
  }
  res.statusCode = 405;
  res.end();
}

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
