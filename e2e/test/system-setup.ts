import { randomBytes } from 'node:crypto';
import { DemoIdpProcess, ServiceProcess, freePort, systemEnv } from './service-processes';

// Setup steps the end-to-end suites share: the demo identity provider playing both the broker's
// sign-in and an OAuth provider, and a client_credentials token from the gateway.

/** The provider client the suite registers at the demo identity provider. */
export interface IdpProviderClient {
  clientId: string;
  secret: string;
  /** Where the provider sends the browser back (default: the broker's externalOAuth callback). */
  redirectPath?: string;
  /** Grants the client may use (default: the demo provider's, code + refresh_token). */
  grantTypes?: string[];
}

/** A form POST (application/x-www-form-urlencoded), as fetch's init. */
export const formPost = (body: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(body),
});

/**
 * Starts the demo identity provider on a free port with the gateway's sign-in client (callback at
 * `base`) and one provider client; `env`: more DEMO_IDP_* settings. Stopped again if it cannot start.
 */
export async function startProviderIdp(
  base: string,
  client: IdpProviderClient,
  env: Record<string, string> = {},
): Promise<DemoIdpProcess> {
  const idp = new DemoIdpProcess(
    await freePort(),
    randomBytes(16).toString('hex'),
    [`${base}/api/v1/oauth/upstream/callback`],
    'broker-gateway',
    {
      DEMO_IDP_CLIENTS: JSON.stringify([
        {
          client_id: client.clientId,
          client_secret: client.secret,
          redirect_uris: [`${base}${client.redirectPath ?? '/api/v2/externalOAuth/providers/callback/'}`],
          ...(client.grantTypes ? { grant_types: client.grantTypes } : {}),
        },
      ]),
      ...env,
    },
  );
  try {
    await idp.start();
  } catch (err) {
    await idp.stop();
    throw err;
  }
  return idp;
}

/**
 * The system's settings for a suite whose OAuth provider is the demo identity provider on
 * loopback: the bootstrap admin client's secret, egress allowed to the provider's port (and
 * `morePorts`), a 15-second bus timeout; `extra` adds or overrides settings.
 */
export function demoProviderSystemEnv(
  databaseUrl: string,
  gatewayPort: number,
  label: string,
  provider: { adminSecret: string; idp: DemoIdpProcess; morePorts?: number[] },
  extra: Record<string, string> = {},
): Record<string, string> {
  return systemEnv(databaseUrl, gatewayPort, label, {
    BOOTSTRAP_CLIENT_SECRET: provider.adminSecret,
    EGRESS_ALLOW_LOOPBACK: 'true',
    EGRESS_ALLOWED_PORTS: [443, provider.idp.port, ...(provider.morePorts ?? [])].join(','),
    BUS_TIMEOUT_MS: '15000',
    ...extra,
  });
}

/** An access token for a client of the broker (client_credentials at the gateway), of `scope` when given. */
export async function clientCredentialsToken(
  base: string,
  clientId: string,
  secret: string,
  scope?: string,
): Promise<string> {
  const res = await fetch(
    `${base}/api/v1/oauth/token`,
    formPost({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
      ...(scope ? { scope } : {}),
    }),
  );
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

/**
 * Starts the four services into `services` (so the suite's afterAll stops whatever started): one
 * token-broker first, alone, as it applies the migrations; then `tokenBrokers - 1` more replicas,
 * the provider-registry, the worker and the gateway on `gatewayPort`; resolves when all are ready.
 */
export async function startSystemInto(
  services: ServiceProcess[],
  env: Record<string, string>,
  gatewayPort: number,
  tokenBrokers = 1,
): Promise<void> {
  const first = new ServiceProcess('token-broker', await freePort(), env).start();
  services.push(first);
  await first.ready(); // migrations first
  for (let i = 1; i < tokenBrokers; i++)
    services.push(new ServiceProcess('token-broker', await freePort(), env).start());
  services.push(
    new ServiceProcess('provider-registry', await freePort(), env).start(),
    new ServiceProcess('worker', await freePort(), env).start(),
    new ServiceProcess('gateway', gatewayPort, env).start(),
  );
  await Promise.all(services.map((s) => s.ready()));
}

/** A bearer-authenticated call to the gateway at `base()` (JSON body when given). */
export const bearerApi =
  (base: () => string) =>
  (path: string, bearer: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`${base()}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
