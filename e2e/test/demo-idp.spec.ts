import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { demoIdpBrowser } from '@broker/testing';
import { freePort, spawnDemoIdp } from './service-processes';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const PROVIDER = {
  id: 'broker-provider',
  secret: randomBytes(24).toString('base64url'),
  redirect: 'http://127.0.0.1:1/provider/callback',
};
const DEVICE = { id: 'broker-device', secret: randomBytes(24).toString('base64url') };
const GATEWAY = {
  id: 'broker-gateway',
  secret: randomBytes(24).toString('base64url'),
  redirect: 'http://127.0.0.1:1/api/v1/oauth/upstream/callback',
};

type Events = Record<string, number>;
type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

/** The demo IdP as its own process, with whatever environment a test needs. */
class DemoIdp {
  readonly output: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(timeoutMs = 15_000): Promise<void> {
    const { child, ready } = spawnDemoIdp(this.port, this.env, this.output, timeoutMs);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return ready;
  }

  /** SIGKILL: the process dies at once, as in a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A browser with its own cookie jar for the identity provider (see `demoIdpBrowser`). */
const browser = demoIdpBrowser;

describe('demo identity provider as an external OAuth provider', () => {
  let idp: DemoIdp;
  let provider: oidc.Configuration;
  /** Every token, code and secret seen, for the log check. */
  const seen: string[] = [PROVIDER.secret, DEVICE.secret, GATEWAY.secret];

  beforeAll(async () => {
    idp = new DemoIdp(await freePort(), {
      DEMO_IDP_CLIENT_SECRET: GATEWAY.secret,
      DEMO_IDP_REDIRECT_URIS: GATEWAY.redirect,
      DEMO_IDP_CLIENTS: JSON.stringify([
        { client_id: PROVIDER.id, client_secret: PROVIDER.secret, redirect_uris: [PROVIDER.redirect] },
        {
          client_id: DEVICE.id,
          client_secret: DEVICE.secret,
          redirect_uris: [],
          grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
        },
      ]),
      DEMO_IDP_ACCESS_TOKEN_TTL: '20',
      DEMO_IDP_TEST_HOOKS: '1',
    });
    await idp.start();
    provider = await client(PROVIDER.id, oidc.ClientSecretBasic(PROVIDER.secret));
  }, 30_000);

  afterAll(async () => {
    await idp?.stop();
  }, 15_000);

  beforeEach(async () => {
    expect((await control('POST', '/__test/reset')).status).toBe(200);
  });

  async function client(id: string, auth: oidc.ClientAuth): Promise<oidc.Configuration> {
    const config = await oidc.discovery(new URL(idp.issuer), id, {}, auth, {
      execute: [oidc.allowInsecureRequests],
      timeout: 10,
    });
    return config;
  }

  async function control(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${idp.issuer}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  const events = async (): Promise<Events> => (await control('GET', '/__test/events')).json as Events;
  const faults = async (body: Record<string, unknown>) => {
    const res = await control('POST', '/__test/faults', body);
    expect(res.status).toBe(200);
    return res.json;
  };

  /** Signs in through the page (authorization code + PKCE) and redeems the code. */
  async function signedIn(
    config = provider,
    redirect = PROVIDER.redirect,
    scope = 'openid email profile',
  ): Promise<Tokens> {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirect,
      scope,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const callback = await browser().navigate(url.toString(), undefined, redirect);
    expect(callback.url.startsWith(redirect)).toBe(true);
    const code = new URL(callback.url).searchParams.get('code');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(callback.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    remember(code, tokens);
    return tokens;
  }

  function remember(...values: (string | null | undefined | Tokens)[]): void {
    for (const v of values) {
      if (typeof v === 'string') seen.push(v);
      else if (v)
        seen.push(
          ...[v.access_token, v.refresh_token, v.id_token].filter((s): s is string => typeof s === 'string'),
        );
    }
  }

  async function refresh(token: string, config = provider): Promise<Tokens> {
    const tokens = await oidc.refreshTokenGrant(config, token);
    remember(tokens);
    return tokens;
  }

  /** Polls the counters until `check` passes (the server counts after answering, or before a delay). */
  async function eventually(check: (e: Events) => boolean, timeoutMs = 5_000): Promise<Events> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await events();
      if (check(e)) return e;
      if (Date.now() > deadline) throw new Error(`counters never matched: ${JSON.stringify(e)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('publishes the endpoints a broker needs in its discovery document', async () => {
    const metadata = provider.serverMetadata();
    expect(metadata).toMatchObject({
      issuer: idp.issuer,
      token_endpoint: `${idp.issuer}/token`,
      revocation_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//),
      introspection_endpoint: expect.any(String),
      userinfo_endpoint: expect.any(String),
      device_authorization_endpoint: expect.any(String),
    });
    expect(metadata.code_challenge_methods_supported).toContain('S256');
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
    );
    expect(metadata.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', DEVICE_CODE_GRANT]),
    );
  });

  it('signs in with code + PKCE and returns an access token (TTL from the environment) and a refresh token', async () => {
    const tokens = await signedIn();
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.expires_in).toBeGreaterThan(15);
    expect(tokens.expires_in).toBeLessThanOrEqual(20);
    const sub = String(tokens.claims()?.sub);
    expect(sub).toMatch(/^demo-/);
    expect(await oidc.fetchUserInfo(provider, tokens.access_token, sub)).toMatchObject({
      sub,
      email: 'ada@example.test',
      name: 'Ada Lovelace',
    });
    expect(await oidc.tokenIntrospection(provider, tokens.access_token)).toMatchObject({
      active: true,
      client_id: PROVIDER.id,
      sub,
    });
    expect(await events()).toMatchObject({
      'authorization_code.consumed': 1,
      'access_token.saved': 1,
      'refresh_token.saved': 1,
      'grant.success': 1,
      'grant.success.authorization_code': 1,
      'token_requests.authorization_code': 1,
      'grant.revoked': 0,
    });
  });

  it('still requires PKCE', async () => {
    const url = oidc.buildAuthorizationUrl(provider, {
      redirect_uri: PROVIDER.redirect,
      scope: 'openid',
      state: oidc.randomState(),
    });
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBeGreaterThanOrEqual(300);
    expect(res.status).toBeLessThan(400);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(PROVIDER.redirect);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('rotates the refresh token on every use', async () => {
    const first = await signedIn();
    const second = await refresh(first.refresh_token ?? '');
    const third = await refresh(second.refresh_token ?? '');
    expect(second.refresh_token).toEqual(expect.any(String));
    expect(third.refresh_token).toEqual(expect.any(String));
    expect(new Set([first.refresh_token, second.refresh_token, third.refresh_token]).size).toBe(3);
    expect(third.expires_in).toBeLessThanOrEqual(20);
    expect(await events()).toMatchObject({
      'refresh_token.consumed': 2,
      'refresh_token.saved': 3,
      'grant.success.refresh_token': 2,
      'token_requests.refresh_token': 2,
      'grant.revoked': 0,
    });
  });

  it('refuses a reused refresh token and revokes the grant', async () => {
    const first = await signedIn();
    const second = await refresh(first.refresh_token ?? '');
    await expect(oidc.refreshTokenGrant(provider, first.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await events()).toMatchObject({
      'grant.revoked': 1,
      'refresh_token.consumed': 1,
      'grant.error.invalid_grant': 1,
    });
    // The whole grant is gone: the newest refresh token and the access token too.
    await expect(oidc.refreshTokenGrant(provider, second.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await oidc.tokenIntrospection(provider, second.access_token)).toMatchObject({ active: false });
  });

  it('delays token responses while still processing them (tokenDelayMs)', async () => {
    const first = await signedIn();
    await faults({ tokenDelayMs: 1_200 });
    const started = Date.now();
    const second = await refresh(first.refresh_token ?? '');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_100);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(await events()).toMatchObject({ 'refresh_token.consumed': 1, 'faults.delayed': 1 });

    // A client that gives up before the late answer: the token rotated anyway, the old one is spent.
    const impatient = await client(PROVIDER.id, oidc.ClientSecretBasic(PROVIDER.secret));
    impatient.timeout = 0.3;
    await expect(oidc.refreshTokenGrant(impatient, second.refresh_token ?? '')).rejects.toThrow();
    await eventually((e) => e['refresh_token.consumed'] === 2);
    await faults({ tokenDelayMs: 0 });
    await expect(oidc.refreshTokenGrant(provider, second.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await events()).toMatchObject({ 'grant.revoked': 1 });
  }, 20_000);

  it('answers the next N token requests with a status without processing them (tokenStatus)', async () => {
    const first = await signedIn();
    expect(await faults({ tokenStatus: 503, count: 2 })).toMatchObject({
      tokenStatus: { status: 503, remaining: 2 },
    });
    for (let i = 0; i < 2; i++) {
      // oauth4webapi reads error bodies only from 4xx answers: a 503 is "not conform", with the response as cause.
      const failure = await oidc.refreshTokenGrant(provider, first.refresh_token ?? '').then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).toMatchObject({ code: 'OAUTH_RESPONSE_IS_NOT_CONFORM' });
      const response = (failure as Error).cause as Response;
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    }
    const second = await refresh(first.refresh_token ?? '');
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(await events()).toMatchObject({
      'token_requests.refresh_token': 3,
      'faults.token_status': 2,
      'refresh_token.consumed': 1,
      'grant.success.refresh_token': 1,
    });

    await faults({ tokenStatus: 429 });
    const raw = await fetch(provider.serverMetadata().token_endpoint ?? '', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${PROVIDER.id}:${PROVIDER.secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: second.refresh_token ?? '' }),
      signal: AbortSignal.timeout(5_000),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(await raw.json()).toMatchObject({ error: expect.any(String) });
    const third = await refresh(second.refresh_token ?? ''); // the faulted request was not processed
    expect(third.refresh_token).not.toBe(second.refresh_token);
  });

  it('answers the next N token requests with a given error body (tokenErrorBody)', async () => {
    const first = await signedIn();
    await faults({ tokenErrorBody: { error: 'invalid_grant', error_description: 'injected' }, count: 1 });
    await expect(oidc.refreshTokenGrant(provider, first.refresh_token ?? '')).rejects.toMatchObject({
      status: 400,
      error: 'invalid_grant',
      error_description: 'injected',
    });
    expect(await events()).toMatchObject({
      'faults.token_error_body': 1,
      'refresh_token.consumed': 0,
      'grant.revoked': 0,
    });
    const second = await refresh(first.refresh_token ?? '');
    expect(second.refresh_token).not.toBe(first.refresh_token);
  });

  it('rotates and then drops the connection instead of answering (dropAfterRotation)', async () => {
    const first = await signedIn();
    await faults({ dropAfterRotation: 1 });
    const failure = await oidc.refreshTokenGrant(provider, first.refresh_token ?? '').then(
      () => null,
      (err: unknown) => err,
    );
    // openid-client wraps fetch's "fetch failed" (the socket closed): no HTTP response at all.
    expect(failure).toBeInstanceOf(oidc.ClientError);
    expect(failure).not.toBeInstanceOf(oidc.ResponseBodyError);
    expect((failure as Error).cause).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(((failure as Error).cause as Error).cause).toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(await eventually((e) => e['faults.dropped'] === 1)).toMatchObject({
      'refresh_token.consumed': 1,
      'grant.success.refresh_token': 1,
    });
    // The old refresh token is spent: the retry a client would make is a reuse.
    await expect(oidc.refreshTokenGrant(provider, first.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await events()).toMatchObject({ 'grant.revoked': 1, 'faults.dropped': 1 });
  });

  it('revokes tokens at the revocation endpoint (RFC 7009)', async () => {
    // A refresh token: the grant goes, with every token issued under it.
    const tokens = await signedIn();
    await oidc.tokenRevocation(provider, tokens.refresh_token ?? '', { token_type_hint: 'refresh_token' });
    await expect(oidc.refreshTokenGrant(provider, tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await oidc.tokenIntrospection(provider, tokens.access_token)).toMatchObject({ active: false });
    expect(await events()).toMatchObject({
      revocation_requests: 1,
      'revocation.success': 1,
      'grant.revoked': 1,
    });

    // An access token: oidc-provider drops the tokens of its grant too (refresh tokens included) but keeps the grant.
    const other = await signedIn();
    await oidc.tokenRevocation(provider, other.access_token, { token_type_hint: 'access_token' });
    expect(await oidc.tokenIntrospection(provider, other.access_token)).toMatchObject({ active: false });
    await expect(oidc.refreshTokenGrant(provider, other.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    expect(await events()).toMatchObject({
      revocation_requests: 2,
      'revocation.success': 2,
      'grant.revoked': 1,
    });

    // Another client's token is not the caller's to revoke.
    const device = await client(DEVICE.id, oidc.ClientSecretBasic(DEVICE.secret));
    const third = await signedIn();
    await expect(oidc.tokenRevocation(device, third.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_request',
    });
    expect(await oidc.tokenIntrospection(provider, third.access_token)).toMatchObject({ active: true });
  });

  it('revokes every grant on POST /__test/revoke-grants', async () => {
    const a = await signedIn();
    const b = await signedIn();
    const res = await control('POST', '/__test/revoke-grants');
    expect(res.status).toBe(200);
    expect(res.json['revoked']).toBeGreaterThanOrEqual(2);
    for (const tokens of [a, b]) {
      await expect(oidc.refreshTokenGrant(provider, tokens.refresh_token ?? '')).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      expect(await oidc.tokenIntrospection(provider, tokens.access_token)).toMatchObject({ active: false });
    }
    // Signing in again works (a new grant).
    expect((await signedIn()).refresh_token).toEqual(expect.any(String));
  });

  it('runs the device flow: device authorization, user-code page, the same sign-in page, then tokens', async () => {
    const device = await client(DEVICE.id, oidc.ClientSecretBasic(DEVICE.secret));
    const started = await oidc.initiateDeviceAuthorization(device, { scope: 'openid email' });
    expect(started).toMatchObject({
      device_code: expect.any(String),
      user_code: expect.any(String),
      verification_uri: `${idp.issuer}/device`,
      verification_uri_complete: expect.any(String),
      interval: 5,
      expires_in: expect.any(Number),
    });
    remember(started.device_code, started.user_code);
    await expect(
      oidc.genericGrantRequest(device, DEVICE_CODE_GRANT, { device_code: started.device_code }),
    ).rejects.toMatchObject({ error: 'authorization_pending' });

    const person = browser('grace@example.test');
    const input = await person.navigate(started.verification_uri);
    expect(input.status).toBe(200);
    expect(input.html).toContain('Connect a device');
    const confirm = await person.submit(input, 'op.deviceInputForm', { user_code: started.user_code });
    expect(confirm.html).toContain(started.user_code);
    const done = await person.submit(confirm, 'op.deviceConfirmForm'); // → the sign-in page → back
    expect(done.status).toBe(200);
    expect(done.html).toContain('Device connected');

    const tokens = await oidc.genericGrantRequest(device, DEVICE_CODE_GRANT, {
      device_code: started.device_code,
    });
    remember(tokens);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const sub = String(tokens.claims()?.sub);
    expect(await oidc.fetchUserInfo(device, tokens.access_token, sub)).toMatchObject({
      sub,
      email: 'grace@example.test',
    });
    const refreshed = await refresh(tokens.refresh_token ?? '', device);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(await events()).toMatchObject({
      'device_authorization.success': 1,
      'device_code.consumed': 1,
      'grant.success.device_code': 1,
      'refresh_token.consumed': 1,
    });
  });

  it('validates the control API and resets faults and counters', async () => {
    expect((await control('POST', '/__test/faults', { tokenDelay: 5 })).status).toBe(400);
    expect((await control('POST', '/__test/faults', { tokenDelayMs: 10_000_000 })).status).toBe(400);
    expect((await control('POST', '/__test/faults', { count: 2 })).status).toBe(400);
    expect(await faults({ tokenDelayMs: 5, dropAfterRotation: 2 })).toMatchObject({
      tokenDelayMs: 5,
      dropAfterRotation: 2,
      tokenStatus: null,
    });
    await signedIn();
    expect((await events())['grant.success']).toBe(1);
    expect((await control('POST', '/__test/reset')).json).toEqual({ ok: true });
    expect((await control('GET', '/__test/faults')).json).toEqual({
      tokenDelayMs: 0,
      tokenStatus: null,
      tokenErrorBody: null,
      dropAfterRotation: 0,
    });
    expect(await events()).toMatchObject({ 'grant.success': 0, 'access_token.saved': 0 });
  });

  it('keeps serving the gateway client as before: code + PKCE, no refresh token', async () => {
    const gateway = await client(GATEWAY.id, oidc.ClientSecretPost(GATEWAY.secret));
    const tokens = await signedIn(gateway, GATEWAY.redirect, 'openid email profile');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.expires_in).toBeLessThanOrEqual(20);
  });

  it('prints no tokens, codes or client secrets', async () => {
    const secrets = seen.filter((s) => s.length >= 8);
    expect(secrets.length).toBeGreaterThan(20);
    const logs = idp.output.join('');
    expect(logs).toContain(`demo-idp ready ${idp.issuer}`);
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});

describe('demo identity provider without test hooks', () => {
  it('serves no /__test/ API and keeps its old start-up contract', async () => {
    const idp = new DemoIdp(await freePort(), {
      DEMO_IDP_CLIENT_SECRET: GATEWAY.secret,
      DEMO_IDP_REDIRECT_URIS: GATEWAY.redirect,
    });
    try {
      await idp.start();
      for (const path of ['/__test/events', '/__test/reset']) {
        const res = await fetch(`${idp.issuer}${path}`, {
          method: path.endsWith('reset') ? 'POST' : 'GET',
          signal: AbortSignal.timeout(5_000),
        });
        expect(res.status).toBe(404);
      }
      const metadata = (await (
        await fetch(`${idp.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) })
      ).json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        authorization_endpoint: `${idp.issuer}/auth`,
        token_endpoint: `${idp.issuer}/token`,
        userinfo_endpoint: `${idp.issuer}/me`,
      });
    } finally {
      await idp.stop();
    }
  }, 30_000);

  it('refuses to start without a client', async () => {
    const idp = new DemoIdp(await freePort(), {});
    await expect(idp.start()).rejects.toThrow(
      /DEMO_IDP_CLIENT_SECRET and DEMO_IDP_REDIRECT_URIS are required/,
    );
  }, 20_000);
});

describe('demo identity provider with a data folder (DEMO_IDP_DATA_DIR)', () => {
  let dir: string;
  let port: number;
  const env = () => ({
    DEMO_IDP_DATA_DIR: dir,
    DEMO_IDP_CLIENT_SECRET: GATEWAY.secret,
    DEMO_IDP_REDIRECT_URIS: GATEWAY.redirect,
    DEMO_IDP_CLIENTS: JSON.stringify([
      { client_id: PROVIDER.id, client_secret: PROVIDER.secret, redirect_uris: [PROVIDER.redirect] },
    ]),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'demo-idp-data-'));
    port = await freePort();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const configFor = (issuer: string) =>
    oidc.discovery(new URL(issuer), PROVIDER.id, {}, oidc.ClientSecretBasic(PROVIDER.secret), {
      execute: [oidc.allowInsecureRequests],
      timeout: 10,
    });

  it('keeps grants, tokens, accounts and keys across a restart, even after a crash (kill -9)', async () => {
    let idp = new DemoIdp(port, env());
    await idp.start();
    let tokens: Tokens;
    let sub: string;
    let jwks: unknown;
    try {
      const config = await configFor(idp.issuer);
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: PROVIDER.redirect,
        scope: 'openid email profile',
        state,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const callback = await browser('grace@example.test').navigate(
        url.toString(),
        undefined,
        PROVIDER.redirect,
      );
      const first = await oidc.authorizationCodeGrant(config, new URL(callback.url), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      sub = String(first.claims()?.sub);
      // One rotation just before the crash: the newest refresh token must be the one that survives.
      tokens = await oidc.refreshTokenGrant(config, first.refresh_token ?? '');
      jwks = await (await fetch(`${idp.issuer}/jwks`)).json();
      expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    } finally {
      await idp.kill();
    }

    idp = new DemoIdp(port, env());
    await idp.start();
    try {
      expect(idp.output.join('')).toMatch(/entries restored/);
      const config = await configFor(idp.issuer);
      expect(await (await fetch(`${idp.issuer}/jwks`)).json()).toEqual(jwks);
      // The access token issued before the crash still works at userinfo, with the account's claims.
      expect(await oidc.fetchUserInfo(config, tokens.access_token, sub)).toMatchObject({
        sub,
        email: 'grace@example.test',
        name: 'Ada Lovelace',
      });
      // The refresh token rotated before the crash still rotates (the grant was not forgotten).
      const next = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
      expect(next.refresh_token).toEqual(expect.any(String));
      expect(next.refresh_token).not.toBe(tokens.refresh_token);
    } finally {
      await idp.stop();
    }
  }, 60_000);
});
