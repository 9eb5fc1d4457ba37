// The demo provider's settings from its environment (see server.mjs for the variables); a bad one
// ends the process with a message naming it (never its value).
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SUPPORTED_GRANTS = new Set(['authorization_code', 'refresh_token', DEVICE_CODE_GRANT]);
const SUPPORTED_AUTH_METHODS = new Set(['client_secret_basic', 'client_secret_post']);

export function fail(message) {
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

export const port = Number(process.env.DEMO_IDP_PORT ?? 3104);
export const clientId = process.env.DEMO_IDP_CLIENT_ID ?? 'broker-gateway';
export const clientSecret = process.env.DEMO_IDP_CLIENT_SECRET;
export const redirectUris = (process.env.DEMO_IDP_REDIRECT_URIS ?? '').split(/\s+/).filter(Boolean);
export const extraClients = providerClients(process.env.DEMO_IDP_CLIENTS);
export const gatewayClient = Boolean(clientSecret && redirectUris.length > 0);
if (!gatewayClient && (extraClients.length === 0 || clientSecret || redirectUris.length > 0)) {
  fail('DEMO_IDP_CLIENT_SECRET and DEMO_IDP_REDIRECT_URIS are required');
}
export const accessTokenTtl = seconds('DEMO_IDP_ACCESS_TOKEN_TTL', 3600);
export const refreshTokenTtl = seconds('DEMO_IDP_REFRESH_TOKEN_TTL', 14 * 86_400);
export const deviceInterval = seconds('DEMO_IDP_DEVICE_INTERVAL', 5);
export const testHooks = process.env.DEMO_IDP_TEST_HOOKS === '1';
export const issuer = `http://127.0.0.1:${port}`;

export const clients = [
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
export const refreshClients = new Set(clients.filter((c) => c.grant_types.includes('refresh_token')).map((c) => c.client_id));
if (new Set(clients.map((c) => c.client_id)).size !== clients.length) fail('client ids must be unique (DEMO_IDP_CLIENT_ID and DEMO_IDP_CLIENTS)');
