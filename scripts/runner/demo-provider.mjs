// The bundled demo OAuth/OIDC provider (tools/demo-idp, oidc-provider on loopback): people sign in
// there at /api/v1/oauth/authorize, and it is registered as an `oidc` provider of the bootstrap
// org so the consent and device flows work offline. Its grants are kept in <data>/demo-idp.
import path from 'node:path';
import { REPO } from './settings.mjs';

export const DEMO_IDP_SCRIPT = path.join(REPO, 'tools', 'demo-idp', 'server.mjs');
export const DEFAULT_DEMO_IDP_PORT = 3104;
const DEMO_PROVIDER_CLIENT_ID = 'broker-demo-provider';

/** The demo provider's environment (its clients: the gateway's sign-in, and the org's provider app). */
export function demoIdpEnv({ port, publicUrl, dataDir, clientSecret, providerSecret }) {
  return {
    PATH: process.env.PATH ?? '',
    DEMO_IDP_PORT: String(port),
    DEMO_IDP_DATA_DIR: dataDir,
    DEMO_IDP_CLIENT_SECRET: clientSecret,
    DEMO_IDP_REDIRECT_URIS: `${publicUrl}/api/v1/oauth/upstream/callback`,
    DEMO_IDP_CLIENTS: JSON.stringify([
      {
        client_id: DEMO_PROVIDER_CLIENT_ID,
        client_secret: providerSecret,
        redirect_uris: [`${publicUrl}/api/v2/externalOAuth/providers/callback/`],
        // The device flow too, so the external-auth walkthrough (docs/external-auth.md) works offline.
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      },
    ]),
  };
}

/** The UPSTREAM_* variables that point the broker's sign-in at the demo provider. */
export function upstreamEnv(issuer, clientSecret) {
  return {
    UPSTREAM_AUTHORIZATION_URL: `${issuer}/auth`,
    UPSTREAM_TOKEN_URL: `${issuer}/token`,
    UPSTREAM_USERINFO_URL: `${issuer}/me`,
    UPSTREAM_CLIENT_ID: 'broker-gateway',
    UPSTREAM_CLIENT_SECRET: clientSecret,
  };
}

/** Registers the demo provider as an `oidc` provider of the bootstrap org (once; found by name after); resolves with its id. */
export async function registerDemoProvider({ gateway, issuer, providerSecret, clientId, clientSecret }) {
  const tokenRes = await fetch(`${gateway}/api/v1/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials&scope=providers:read providers:write',
  });
  if (!tokenRes.ok) throw new Error(`admin token refused (${tokenRes.status})`);
  const { access_token: token } = /** @type {{ access_token: string }} */ (await tokenRes.json());
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const list = /** @type {{ data: { id: string, name: string }[] }} */ (
    await (await fetch(`${gateway}/api/v2/externalOAuth/providers/?types=oidc`, { headers })).json()
  );
  const name = `Demo provider (${issuer})`;
  const existing = list.data.find((p) => p.name === name);
  if (existing) return existing.id;
  const res = await fetch(`${gateway}/api/v2/externalOAuth/providers/`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      type: 'oidc',
      name,
      clientId: DEMO_PROVIDER_CLIENT_ID,
      clientSecret: providerSecret,
      issuer,
    }),
  });
  if (res.status !== 201)
    throw new Error(`could not register the demo provider (${res.status}: ${await res.text()})`);
  return /** @type {{ id: string }} */ (await res.json()).id;
}
