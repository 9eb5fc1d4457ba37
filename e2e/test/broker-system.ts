import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { BusClientProxy } from '@broker/bus';
import { KeyedHasher } from '@broker/crypto';
import {
  ClientCredentials,
  ClientsService,
  IDENTITY_SCHEMA,
  NewClient,
  SignInPolicy,
  UsersService,
} from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { createTestDatabase, signInAtDemoIdp, TestDatabase } from '@broker/testing';
import { DemoIdpProcess, ServiceProcess, busClientFor, freePort, systemEnv } from './service-processes';
import { delegatedToken, linkDemoAccount, registerDemoProvider } from './consent-setup';

export const APP_REDIRECT = 'http://127.0.0.1:1/app/callback';

export interface BrokerSystemOptions {
  label: string;
  /** Replicas of the gateway and of the token-broker (the registry runs once). */
  gateways?: number;
  brokers?: number;
  /** More environment variables for every service. */
  env?: Record<string, string>;
  /** Also register the demo provider as an external `oidc` provider the users can connect (consent flow). */
  providerClient?: boolean;
  /** More ports outbound calls may use (local webhook receivers). */
  egressPorts?: number[];
  /** More OAuth clients at the demo provider (same secret and callback as `broker-provider`), to register it several times. */
  extraProviderClients?: string[];
  /** More DEMO_IDP_* variables for the demo provider (e.g. its test hooks). */
  idpEnv?: Record<string, string>;
  /** How long each service may take to become ready (default 30 s; many replicas start at once on a busy box). */
  readyTimeoutMs?: number;
}

/**
 * A whole broker for attack tests: gateways, token-brokers and the registry as processes, the demo
 * identity provider (oidc-provider) as the upstream sign-in and, optionally, as an external
 * provider, the bootstrap admin, and direct access to the identity tables (as the admin CLI has).
 */
export class BrokerSystem {
  db!: TestDatabase;
  idp!: DemoIdpProcess;
  env!: Record<string, string>;
  base = '';
  readonly gateways: ServiceProcess[] = [];
  readonly brokers: ServiceProcess[] = [];
  registry!: ServiceProcess;
  bus!: BusClientProxy;
  identity!: DataSource;
  clients!: ClientsService;
  users!: UsersService;
  policy!: SignInPolicy;
  readonly adminSecret = randomBytes(32).toString('base64url');
  readonly providerSecret = randomBytes(24).toString('base64url');

  constructor(private readonly options: BrokerSystemOptions) {}

  async start(): Promise<this> {
    const { label } = this.options;
    this.db = await createTestDatabase(label);
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    this.idp = new DemoIdpProcess(
      await freePort(),
      randomBytes(24).toString('base64url'),
      [`${this.base}/api/v1/oauth/upstream/callback`],
      'broker-gateway',
      {
        ...this.options.idpEnv,
        ...(this.options.providerClient
          ? {
              DEMO_IDP_CLIENTS: JSON.stringify(
                ['broker-provider', ...(this.options.extraProviderClients ?? [])].map((clientId) => ({
                  client_id: clientId,
                  client_secret: this.providerSecret,
                  redirect_uris: [`${this.base}/api/v2/externalOAuth/providers/callback/`],
                  grant_types: [
                    'authorization_code',
                    'refresh_token',
                    'urn:ietf:params:oauth:grant-type:device_code',
                  ],
                })),
              ),
            }
          : {}),
      },
    );
    await this.idp.start();
    this.env = systemEnv(this.db.url, port, label, {
      BOOTSTRAP_CLIENT_SECRET: this.adminSecret,
      EGRESS_ALLOW_LOOPBACK: 'true',
      EGRESS_ALLOWED_PORTS: [443, this.idp.port, ...(this.options.egressPorts ?? [])].join(','),
      ...this.idp.upstreamEnv(),
      ...this.options.env,
    });
    const first = new ServiceProcess('token-broker', await freePort(), this.env).start();
    this.brokers.push(first);
    await first.ready(this.options.readyTimeoutMs); // migrations first, then the rest
    for (let i = 1; i < (this.options.brokers ?? 1); i++)
      this.brokers.push(new ServiceProcess('token-broker', await freePort(), this.env).start());
    this.gateways.push(new ServiceProcess('gateway', port, this.env).start());
    for (let i = 1; i < (this.options.gateways ?? 1); i++)
      this.gateways.push(new ServiceProcess('gateway', await freePort(), this.env).start());
    this.registry = new ServiceProcess('provider-registry', await freePort(), this.env).start();
    await Promise.all(
      [...this.brokers, ...this.gateways, this.registry].map((s) => s.ready(this.options.readyTimeoutMs)),
    );
    this.identity = await new DataSource(
      domainDataSourceOptions(this.db.url, IDENTITY_SCHEMA, `e2e-${label}`, 2),
    ).initialize();
    this.clients = new ClientsService(
      this.identity,
      new KeyedHasher(Buffer.from(this.env['SECRET_PEPPER'], 'base64')),
    );
    this.users = new UsersService(this.identity);
    this.policy = new SignInPolicy(this.identity);
    // What any bus caller is given: the services' public keys (no private key, no shared secret).
    this.bus = busClientFor(this.env, 'e2e', 10_000);
    await this.bus.connect();
    return this;
  }

  async stop(): Promise<void> {
    await this.bus?.close();
    await this.identity?.destroy();
    await Promise.all(
      [...this.gateways, ...this.brokers, this.registry].filter(Boolean).map((s) => s.stop()),
    );
    await this.idp?.stop();
    await this.db?.drop();
  }

  /** `api` as a function of its own, for the shared set-up steps. */
  private readonly boundApi = (path: string, token: string, init?: { method?: string; body?: unknown }) =>
    this.api(path, token, init);

  /** Registers the demo provider (started with `providerClient`) as an `oidc` provider of the org; its id. */
  registerDemoProvider(admin: string, clientId = 'broker-provider'): Promise<string> {
    return registerDemoProvider(this.boundApi, admin, {
      issuer: this.idp.issuer,
      clientSecret: this.providerSecret,
      clientId,
      name: clientId === 'broker-provider' ? 'Demo' : `Demo (${clientId})`,
    });
  }

  /** Links the demo provider account `email` to the user `userToken` acts for (see `linkDemoAccount`). */
  linkAccount(userToken: string, providerId: string, email: string): Promise<string> {
    return linkDemoAccount(this.boundApi, this.base, userToken, providerId, email);
  }

  /** A token acting for `sub` (a user of the default org), made by the admin. */
  delegatedToken(admin: string, sub: string, scopes: string[]): Promise<string> {
    return delegatedToken(this.boundApi, admin, sub, scopes);
  }

  /**
   * The set-up of the token suites: the admin's token, the demo provider registered, and `alice`
   * (alice@example.test, of the default org) with a delegated token to link accounts and read tokens.
   */
  async adminAndAlice(): Promise<{ admin: string; providerId: string; alice: string }> {
    const admin = await this.adminToken();
    const providerId = await this.registerDemoProvider(admin);
    await this.users.upsert('default', { sub: 'alice', email: 'alice@example.test' });
    const alice = await this.delegatedToken(admin, 'alice', [
      'authorizations:read',
      'authorizations:write',
      'tokens:read',
    ]);
    return { admin, providerId, alice };
  }

  /** Every service's output so far (for log checks). */
  logs(): string {
    return (
      [...this.gateways, ...this.brokers, this.registry].map((s) => s.output.join('')).join('') +
      this.idp.output.join('')
    );
  }

  /** A client of the broker, created as the admin CLI would. */
  createClient(input: Omit<NewClient, 'name'> & { name?: string }): Promise<ClientCredentials> {
    return this.clients.createClient({ name: `client-${randomBytes(3).toString('hex')}`, ...input });
  }

  /** POSTs a form to the token endpoint of a gateway (default: the first), optionally as another address. */
  tokenRequest(
    form: Record<string, string>,
    options: { gateway?: number; address?: string; path?: string } = {},
  ): Promise<Response> {
    const url = `${this.gateways[options.gateway ?? 0].url}${options.path ?? '/api/v1/oauth/token'}`;
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(options.address ? { 'x-forwarded-for': options.address } : {}),
      },
      body: new URLSearchParams(form),
    });
  }

  /** A client_credentials access token (throws if refused). */
  async clientToken(client: ClientCredentials, scope?: string): Promise<string> {
    const res = await this.tokenRequest({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      ...(scope ? { scope } : {}),
    });
    if (res.status !== 200) throw new Error(`token refused: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  adminToken(): Promise<string> {
    return this.clientToken({ clientId: 'admin', clientSecret: this.adminSecret });
  }

  /** A JSON request to the gateway with a bearer token. */
  api(
    path: string,
    token: string | undefined,
    init: { method?: string; body?: unknown; gateway?: number; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    return fetch(`${this.gateways[init.gateway ?? 0].url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  }

  /**
   * Signs a person in through a first-party app (authorization code + PKCE at the broker, the
   * person at the demo identity provider as `email`); returns the app's callback URL (with `code`
   * or `error`) and the PKCE verifier.
   */
  async signIn(
    app: ClientCredentials,
    email: string,
    scope = 'openid',
    /** More authorization request parameters (e.g. RFC 8707 `resource`). */
    extra: Record<string, string> = {},
  ): Promise<{ callback: URL; verifier: string }> {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${this.base}/api/v1/oauth/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: APP_REDIRECT,
      scope,
      state: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    }).toString();
    const callback = await signInAtDemoIdp(url.toString(), email, (u) => u.startsWith(APP_REDIRECT));
    return { callback, verifier };
  }

  /** Signs in and redeems the code: the person's access and refresh tokens. */
  async userTokens(
    app: ClientCredentials,
    email: string,
    scope = 'openid',
    /** More parameters of the authorization request and of the code's redemption (e.g. `resource`). */
    extra: Record<string, string> = {},
  ): Promise<{ access_token: string; refresh_token: string; scope: string }> {
    const { callback, verifier } = await this.signIn(app, email, scope, extra);
    const code = callback.searchParams.get('code');
    if (!code)
      throw new Error(
        `sign-in refused: ${callback.searchParams.get('error')} ${callback.searchParams.get('error_description')}`,
      );
    const res = await this.tokenRequest({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: APP_REDIRECT,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      ...extra,
    });
    if (res.status !== 200) throw new Error(`code refused: ${res.status} ${await res.text()}`);
    return (await res.json()) as { access_token: string; refresh_token: string; scope: string };
  }

  /** Polls `check` (true = the attack is refused everywhere) until it holds; resolves with the ms it took, or rejects after `limitMs`. */
  static async within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (await check()) return Date.now() - started;
      if (Date.now() - started > limitMs) throw new Error(`still not refused after ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
