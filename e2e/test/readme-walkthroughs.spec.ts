import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './service-processes';
import { NpmStart, ROOT, allGone, sleep } from './npm-start';

const run = promisify(execFile);

/**
 * The README's command-line walkthroughs against `npm start`, with no browser: connecting an
 * account at the demo provider (which keeps it across a crash of the provider), the first-party
 * sign-in with a redirect URI nothing listens on, and the device flow finished from the command
 * line. Each step uses the helper the README names.
 */
describe('the README walkthroughs, from the command line', () => {
  let dataDir: string;
  let npm: NpmStart;
  let B: string;
  let provider: string;
  let alice: string;

  // BROKER_DATA_DIR: the admin tool finds this run's database and secrets the way it does for `npm start`.
  const node = async (script: string, args: string[]) =>
    (
      await run(process.execPath, [join(ROOT, script), ...args], {
        cwd: ROOT,
        timeout: 60_000,
        env: { PATH: process.env['PATH'] ?? '', BROKER_DATA_DIR: dataDir },
      })
    ).stdout.trim();
  const admin = (args: string[]) => node('dist/apps/admin/main.js', args);
  const json = async <T>(res: Promise<Response>): Promise<{ status: number; body: T }> => {
    const r = await res;
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const bearer = (token: string, init: RequestInit = {}): RequestInit => ({
    ...init,
    headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}` },
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'broker-walkthrough-'));
    npm = new NpmStart(dataDir, {
      SKIP_BUILD: '1',
      GATEWAY_PORT: String(await freePort()),
      DEMO_IDP_PORT: String(await freePort()),
    }).start();
    B = await npm.ready();
    const secret = (
      JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as { BOOTSTRAP_CLIENT_SECRET: string }
    ).BOOTSTRAP_CLIENT_SECRET;
    const token = await json<{ access_token: string }>(
      fetch(`${B}/api/v1/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`admin:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      }),
    );
    const admin_ = token.body.access_token;
    provider = (
      await json<{ data: { id: string }[] }>(
        fetch(`${B}/api/v2/externalOAuth/providers/?types=oidc`, bearer(admin_)),
      )
    ).body.data[0].id;
    await admin(['create-user', '--org', 'default', '--sub', 'alice', '--email', 'alice@example.test']);
    alice = (
      await json<{ access_token: string }>(
        fetch(
          `${B}/api/v1/oauth/delegated-token`,
          bearer(admin_, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              sub: 'alice',
              scopes: ['authorizations:read', 'authorizations:write', 'tokens:read'],
            }),
          }),
        ),
      )
    ).body.access_token;
  }, 180_000);

  afterAll(async () => {
    if (npm?.child?.pid) {
      const pids = npm.allPids();
      process.kill(npm.npmPid, 'SIGTERM');
      if (!(await allGone(pids, 20_000))) npm.killAll();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('connects an account with sign-in.mjs, and the link survives a crash of the demo provider', async () => {
    const { body: start } = await json<{ redirectUrl: string }>(
      fetch(
        `${B}/api/v2/externalOAuth/providers/${provider}/authorize/?state=my-state`,
        bearer(alice, { method: 'POST' }),
      ),
    );
    const landed = await node('tools/demo-idp/sign-in.mjs', [start.redirectUrl, 'alice@example.test']);
    expect(landed).toMatch(
      new RegExp(
        `^${B}/connect/done\\?status=connected&authorizedProviderId=[0-9a-f-]+&providerId=${provider}&state=my-state$`,
      ),
    );
    const id = new URL(landed).searchParams.get('authorizedProviderId');
    expect(
      (await json(fetch(`${B}/api/v2/externalOAuth/authorizedProviders/${id}/userinfo/`, bearer(alice))))
        .status,
    ).toBe(200);

    // The demo provider crashes; npm start restarts it with its grants: the link keeps working.
    const demo = npm.lock().processes['demo-idp'];
    process.kill(demo.pid, 'SIGKILL');
    await npm.waitFor(/demo-idp restarted \(pid \d+\)/, 20_000);
    let userinfo = { status: 0, body: {} as Record<string, unknown> };
    for (let i = 0; i < 50 && userinfo.status !== 200; i++) {
      await sleep(200);
      userinfo = await json<Record<string, unknown>>(
        fetch(`${B}/api/v2/externalOAuth/authorizedProviders/${id}/userinfo/`, bearer(alice)),
      ).catch(() => userinfo);
    }
    expect(userinfo).toMatchObject({ status: 200, body: { email: 'alice@example.test' } });
    expect(
      (
        await fetch(
          `${B}/api/v2/externalOAuth/authorizedProviders/${id}/`,
          bearer(alice, { method: 'DELETE' }),
        )
      ).status,
    ).toBe(204);
  }, 90_000);

  it('signs a person in to a first-party app with sign-in.mjs when nothing listens on the redirect URI', async () => {
    const redirectUri = `http://127.0.0.1:${await freePort()}/callback`; // nothing listens there
    const { client_id: clientId, client_secret: clientSecret } = JSON.parse(
      await admin([
        'create-client',
        '--org',
        'default',
        '--name',
        'web',
        '--grants',
        'authorization_code,refresh_token',
        '--scopes',
        'providers:read',
        '--redirect-uri',
        redirectUri,
      ]),
    ) as { client_id: string; client_secret: string };
    // The README's PKCE pair: the verifier "a" × 43 and its S256 challenge.
    const authorize = `${B}/api/v1/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: 'openid providers:read',
      state: 'xyz',
      code_challenge: 'ZtNPunH49FD35FWYhT5Tv8I7vRKQJ8uxMaL0_9eHjNA',
      code_challenge_method: 'S256',
    })}`;
    // Only invited people sign in (the org's default policy): invite carol, matched by her e-mail address.
    await admin([
      'create-user',
      '--org',
      'default',
      '--sub',
      'carol',
      '--email',
      'carol@example.test',
      '--scopes',
      'providers:read',
    ]);
    const landed = new URL(await node('tools/demo-idp/sign-in.mjs', [authorize, 'carol@example.test']));
    expect(`${landed.origin}${landed.pathname}`).toBe(redirectUri);
    expect(landed.searchParams.get('state')).toBe('xyz');
    const tokens = await json<{ access_token: string; id_token: string; refresh_token: string }>(
      fetch(`${B}/api/v1/oauth/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: landed.searchParams.get('code') ?? '',
          redirect_uri: redirectUri,
          code_verifier: 'a'.repeat(43),
        }),
      }),
    );
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({
      access_token: expect.any(String),
      id_token: expect.any(String),
      refresh_token: expect.any(String),
    });
  }, 60_000);

  it('finishes the device flow with approve-device.mjs', async () => {
    const device = await json<{ device_code: string; user_code: string; verification_uri: string }>(
      fetch(`${B}/api/v2/external-auth/${provider}/device`, bearer(alice)),
    );
    expect(device.status).toBe(200);
    expect(
      await node('tools/demo-idp/approve-device.mjs', [
        device.body.verification_uri,
        device.body.user_code,
        'alice@example.test',
      ]),
    ).toBe('approved');
    let status = 0;
    for (let i = 0; i < 60 && status !== 204; i++) {
      const res = await fetch(
        `${B}/api/v2/external-auth/${provider}/device`,
        bearer(alice, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ device_code: device.body.device_code }),
        }),
      );
      status = res.status;
      await res.body?.cancel();
      if (status !== 204) await sleep(500);
    }
    expect(status).toBe(204);
    const links = await json<{ authenticated: boolean }>(
      fetch(`${B}/api/v2/external-auth/${provider}`, bearer(alice)),
    );
    expect(links.body).toMatchObject({ authenticated: true });
  }, 90_000);
});
