import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { signInAtDemoIdp } from '@broker/testing';
import {
  adapterFor,
  createGuardedFetch,
  resolveProviderAsync,
  type AdapterClient,
  type GuardedFetch,
  type ResolvedProvider,
} from '../../src';
import { pkcePair } from '../fakes/oauth-fake';
import { deviceFlow, must } from '../support/must';

const ROOT = join(__dirname, '..', '..', '..', '..');
const CLIENT = {
  id: 'adapter-test',
  secret: randomBytes(24).toString('base64url'),
  redirect: 'http://127.0.0.1:1/adapter/callback',
};
const DEVICE = { id: 'adapter-device', secret: randomBytes(24).toString('base64url') };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The `oidc` adapter against a real OpenID provider: the bundled demo IdP (panva's oidc-provider,
 * tools/demo-idp) on loopback, found by discovery. Code flow with PKCE and RFC 9207 `iss`, id_token
 * checks, userinfo, refresh-token rotation and reuse detection, RFC 7009 revocation, and the start
 * of a device authorization (approving it through the device pages is the device-flow tests' job).
 */
describe('oidc adapter against the demo IdP (oidc-provider)', () => {
  let child: ChildProcess;
  let issuer: string;
  let fetchImpl: GuardedFetch;
  let provider: ResolvedProvider;
  const adapter = adapterFor('oidc');
  const client = (id = CLIENT.id, secret = CLIENT.secret): AdapterClient => ({
    provider,
    clientId: id,
    clientSecret: secret,
    fetch: fetchImpl,
    timeoutMs: 5_000,
  });

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [join(ROOT, 'tools', 'demo-idp', 'server.mjs')], {
      env: {
        PATH: process.env['PATH'] ?? '',
        DEMO_IDP_PORT: String(port),
        DEMO_IDP_CLIENTS: JSON.stringify([
          { client_id: CLIENT.id, client_secret: CLIENT.secret, redirect_uris: [CLIENT.redirect] },
          {
            client_id: DEVICE.id,
            client_secret: DEVICE.secret,
            redirect_uris: [],
            grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
          },
        ]),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`demo-idp not ready:\n${output}`)), 20_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes(`demo-idp ready ${issuer}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`demo-idp exited with ${code}:\n${output}`));
      });
    });
    const policy = { allowLoopback: true, allowedPorts: [port] };
    fetchImpl = createGuardedFetch(policy);
    provider = await resolveProviderAsync('oidc', { issuer }, { fetch: fetchImpl, policy });
  }, 30_000);

  afterAll(async () => {
    await fetchImpl?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }, 15_000);

  /** A consent at the IdP: the callback's code and iss. */
  async function consent(
    verifierChallenge: { challenge: string },
    email = 'ada@example.test',
  ): Promise<{ code: string; iss: string | null }> {
    const url = adapter.authorizationUrl(provider, {
      clientId: CLIENT.id,
      redirectUri: CLIENT.redirect,
      scopes: provider.defaultScopes,
      state: 'st-1',
      codeChallenge: verifierChallenge.challenge,
    });
    const callback = await signInAtDemoIdp(url, email, (u) => u.startsWith(CLIENT.redirect));
    expect(callback.searchParams.get('state')).toBe('st-1');
    return { code: must(callback.searchParams.get('code')), iss: callback.searchParams.get('iss') };
  }

  it('discovers the capabilities', () => {
    expect(adapter.capabilities(provider)).toEqual({
      pkce: true,
      refreshRotation: true,
      revocation: true,
      deviceFlow: true,
      selfHosted: false,
      userInfo: true,
      validate: true,
      consentPrompt: 'optional',
      refreshTokenIdleSeconds: 1_209_600,
    });
    expect(adapter.expectedIssuer?.(provider)).toBe(issuer);
  });

  it('runs the code flow (PKCE, iss, id_token), reads userinfo and validates', async () => {
    const pkce = pkcePair();
    const { code, iss } = await consent(pkce);
    expect(iss).toBe(issuer);
    const tokens = await adapter.exchangeCode(client(), {
      code,
      redirectUri: CLIENT.redirect,
      codeVerifier: pkce.verifier,
      iss: iss ?? undefined,
    });
    expect(tokens).toMatchObject({
      tokenType: 'bearer',
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
    });
    expect(await adapter.userInfo(client(), tokens.accessToken)).toMatchObject({
      email: 'ada@example.test',
      sub: expect.any(String),
    });
    expect(await adapter.validate(client(), tokens.accessToken)).toEqual({ valid: true });
    // A spent code is refused as invalid_grant; a wrong iss never reaches the token endpoint.
    await expect(
      adapter.exchangeCode(client(), { code, redirectUri: CLIENT.redirect, codeVerifier: pkce.verifier }),
    ).rejects.toMatchObject({ kind: 'invalid_grant' });
    await expect(
      adapter.exchangeCode(client(), {
        code: 'x',
        redirectUri: CLIENT.redirect,
        iss: 'https://evil.example',
      }),
    ).rejects.toMatchObject({ kind: 'rejected' });
  });

  it('rotates refresh tokens, and a reused one is invalid_grant', async () => {
    const pkce = pkcePair();
    const { code } = await consent(pkce, 'grace@example.test');
    const first = await adapter.exchangeCode(client(), {
      code,
      redirectUri: CLIENT.redirect,
      codeVerifier: pkce.verifier,
    });
    const second = await adapter.refresh(client(), must(first.refreshToken));
    expect(second.refreshToken).toBeDefined();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await expect(adapter.refresh(client(), must(first.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
    await expect(
      adapter.refresh(client(CLIENT.id, 'wrong-secret'), must(second.refreshToken)),
    ).rejects.toMatchObject({ kind: 'invalid_client' });
  });

  it('revokes a refresh token (RFC 7009), after which it is invalid_grant', async () => {
    const pkce = pkcePair();
    const { code } = await consent(pkce, 'linus@example.test');
    const tokens = await adapter.exchangeCode(client(), {
      code,
      redirectUri: CLIENT.redirect,
      codeVerifier: pkce.verifier,
    });
    expect(
      await adapter.revoke(client(), { value: must(tokens.refreshToken), hint: 'refresh_token' }),
    ).toEqual({ revoked: true });
    await expect(adapter.refresh(client(), must(tokens.refreshToken))).rejects.toMatchObject({
      kind: 'invalid_grant',
    });
  });

  it('starts a device authorization and polls it (pending until the user acts)', async () => {
    const device = deviceFlow(adapter);
    const started = await device.start(client(DEVICE.id, DEVICE.secret), ['openid', 'email']);
    expect(started).toMatchObject({
      deviceCode: expect.any(String),
      userCode: expect.any(String),
      verificationUri: `${issuer}/device`,
      interval: 5,
    });
    expect(started.expiresIn).toBeGreaterThan(0);
    expect(await device.poll(client(DEVICE.id, DEVICE.secret), started.deviceCode)).toEqual({
      status: 'pending',
    });
    expect(await device.poll(client(DEVICE.id, DEVICE.secret), 'not-a-device-code')).toMatchObject({
      status: 'failed',
      error: { kind: 'invalid_grant' },
    });
  });
});
