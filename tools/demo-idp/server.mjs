#!/usr/bin/env node
// A demo upstream identity provider for local use and tests: panva's oidc-provider on loopback,
// with one confidential client (the broker's gateway) and a sign-in page that accepts any e-mail
// address (no password: it is a demo, never expose it). People who sign in get a stable subject
// derived from their e-mail address. It prints one line, `demo-idp ready <issuer>`, when it listens.
//
// Environment:
//   DEMO_IDP_PORT           port on 127.0.0.1 (default 3104)
//   DEMO_IDP_CLIENT_ID      the broker's client id at this provider (default broker-gateway)
//   DEMO_IDP_CLIENT_SECRET  its secret (required)
//   DEMO_IDP_REDIRECT_URIS  space-separated callback URLs of the broker (required)
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.DEMO_IDP_PORT ?? 3104);
const clientId = process.env.DEMO_IDP_CLIENT_ID ?? 'broker-gateway';
const clientSecret = process.env.DEMO_IDP_CLIENT_SECRET;
const redirectUris = (process.env.DEMO_IDP_REDIRECT_URIS ?? '').split(/\s+/).filter(Boolean);
if (!clientSecret || redirectUris.length === 0) {
  console.error('demo-idp: DEMO_IDP_CLIENT_SECRET and DEMO_IDP_REDIRECT_URIS are required');
  process.exit(1);
}
const issuer = `http://127.0.0.1:${port}`;

/** People who signed in, by subject (memory only: the demo forgets them on restart, the broker does not). */
const accounts = new Map();

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  jwks: { keys: [{ ...(await exportJWK(privateKey)), use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 86_400, Grant: 86_400 },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'zoneinfo'] },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account }) };
  },
});
const providerHandler = provider.callback();

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;font:inherit}button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit}</style>
</head><body>${body}</body></html>`;
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

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
<button type="submit">Sign in</button></form>`,
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
    // The broker is a first-party app of this demo provider: consent is granted with the sign-in.
    const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
    return;
  }
  res.statusCode = 405;
  res.end();
}

const server = createServer((req, res) => {
  const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login))?$/.exec(new URL(req.url ?? '/', issuer).pathname);
  if (!match) return providerHandler(req, res);
  interaction(req, res, match[1], match[2]).catch((err) => {
    console.error(`demo-idp: interaction failed: ${err?.message ?? err}`);
    if (!res.headersSent) res.statusCode = 400;
    res.end(page('Sign in (demo)', '<p>This sign-in has expired. Start again from the application.</p>'));
  });
});

server.listen(port, '127.0.0.1', () => console.log(`demo-idp ready ${issuer}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
