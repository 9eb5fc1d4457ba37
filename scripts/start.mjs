// `npm start`: runs the whole system on local defaults. PostgreSQL and Redis are started from
// system binaries with their data in .data/ (unless DATABASE_URL / REDIS_URL are set), local
// secrets are generated once into .data/secrets.json, the four apps are built and started, and
// Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDist } from '../tools/build/check-dist.mjs';
import { ensureDeps } from './ensure-deps.mjs';
import { BUS_SECRET_GENERATORS, BUS_SECRET_NAMES, busEnvForApp } from './lib/bus-keys.mjs';
import { setupLocalRedisAcl } from './lib/redis-acl.mjs';
import {
  createDatabase,
  freePort,
  startPostgres,
  startRedis,
  stopAllServices,
} from './lib/local-services.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATA_DIR = path.join(REPO, '.data');
const STATE_FILE = path.join(DATA_DIR, 'state.json');
const SECRETS_FILE = path.join(DATA_DIR, 'secrets.json');
const APPS = ['provider-registry', 'token-broker', 'worker', 'gateway']; // start order
const DATABASE_NAME = 'broker';
const DEFAULT_GATEWAY_PORT = 3000;
const READY_PATH = '/health/ready';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

// Local secrets: NAME -> generator. Any entry missing from .data/secrets.json is generated on start.
export const SECRET_GENERATORS = {
  // Bus key pairs of the serving services and the events signing key (each app gets only its own).
  ...BUS_SECRET_GENERATORS,
  // Passwords of the local Redis ACL users (one per service, a demo consumer, admin) derive from it.
  REDIS_ACL_SECRET: () => randomBytes(32).toString('base64url'),
  ENCRYPTION_KEYS: () => `k${Date.now().toString(36)}:${randomBytes(32).toString('base64')}`,
  SECRET_PEPPER: () => randomBytes(32).toString('base64'),
  BOOTSTRAP_CLIENT_SECRET: () => randomBytes(32).toString('base64url'),
  // The gateway's secret at the bundled demo identity provider (used when no UPSTREAM_* is set).
  DEMO_IDP_CLIENT_SECRET: () => randomBytes(24).toString('base64url'),
  // The bootstrap org's client at the demo provider (it is registered there as an `oidc` provider).
  DEMO_PROVIDER_CLIENT_SECRET: () => randomBytes(24).toString('base64url'),
};
const DEMO_PROVIDER_CLIENT_ID = 'broker-demo-provider';
const DEMO_IDP_SCRIPT = path.join(REPO, 'tools', 'demo-idp', 'server.mjs');
const DEFAULT_DEMO_IDP_PORT = 3104;

// The built entry point of an app (the one place to change if the build output moves).
export function appEntry(app) {
  return path.join(REPO, 'dist', 'apps', app, 'main.js');
}

const log = (msg) => process.stderr.write(`[start] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Reads .data/secrets.json, fills in missing entries from SECRET_GENERATORS, keeps it mode 0600.
export function loadSecrets(file = SECRETS_FILE) {
  const secrets = readJson(file) ?? {};
  const missing = Object.keys(SECRET_GENERATORS).filter((name) => !secrets[name]);
  for (const name of missing) secrets[name] = SECRET_GENERATORS[name]();
  if (missing.length || !fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    log(`generated ${missing.join(', ')} in ${path.relative(REPO, file)}`);
  }
  fs.chmodSync(file, 0o600);
  return secrets;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

// Runs `npm start`; everything started is tracked and stopped on exit, signal or failure.
export async function start() {
  const children = new Map(); // name -> ChildProcess (the build, then the four apps)
  let stopping = null;
  let forced = false;

  const shutdown = (code, reason) =>
    (stopping ??= (async () => {
      if (reason) log(reason);
      await stopChildren(children, () => forced);
      await stopAllServices(); // only what this process started; servers given by URL are untouched
      log('stopped');
      process.exit(code);
    })());

  for (const sig of SIGNALS) {
    process.on(sig, () => {
      if (stopping) {
        forced = true; // second Ctrl-C: do not wait for the apps
        for (const child of children.values()) child.kill('SIGKILL');
        return;
      }
      shutdown(0, `${sig}: stopping`);
    });
  }

  try {
    await ensureDeps();
    fs.mkdirSync(DATA_DIR, { recursive: true });
    const { databaseUrl, redisUrl } = await provisionServices();
    const secrets = loadSecrets();
    if (stopping) return;
    // The Redis provisioned here gets one ACL user per service (its own keys and channels only);
    // a Redis given by REDIS_URL is the operator's to configure (docs/bus-security.md).
    const redisUsers = process.env.REDIS_URL ? null : await setupLocalRedisAcl(redisUrl, process.env.BUS_PREFIX ?? 'broker', secrets.REDIS_ACL_SECRET);

    const build = await runBuild(children);
    if (stopping) return;
    if (build !== 0)
      return shutdown(1, `build failed (exit ${build}): see the errors above; nothing was started`);
    // A build replayed from the Nx cache skips the build's own check: check what will run.
    const broken = APPS.flatMap(checkDist);
    if (broken.length)
      return shutdown(1, `the built apps cannot load their modules; nothing was started:\n  ${broken.join('\n  ')}`);

    const ports = await choosePorts();
    const publicUrl = process.env.PUBLIC_URL ?? `http://127.0.0.1:${ports.gateway}`;
    const { DEMO_IDP_CLIENT_SECRET: demoSecret, DEMO_PROVIDER_CLIENT_SECRET: demoProviderSecret, REDIS_ACL_SECRET: _aclSecret, ...serviceSecrets } = secrets;
    const demo = process.env.UPSTREAM_AUTHORIZATION_URL ? null : await startDemoIdp(children, publicUrl, demoSecret, demoProviderSecret, () => stopping);
    const upstream = demo?.env ?? {};
    if (stopping) return;
    children.get('demo-idp')?.on('exit', (code) => {
      if (!stopping) shutdown(1, `the demo identity provider exited unexpectedly (exit code ${code}): stopping everything`);
    });
    for (const app of APPS) {
      const entry = appEntry(app);
      if (!fs.existsSync(entry))
        return shutdown(1, `${app}: ${path.relative(REPO, entry)} does not exist after the build`);
      const env = {
        ...process.env,
        NODE_ENV: process.env.NODE_ENV ?? 'development',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        PUBLIC_URL: publicUrl,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUsers?.[app] ?? redisUrl,
        ...upstream,
        // The demo provider lives on loopback: let the services reach it (a development setting).
        ...(demo && !process.env.EGRESS_ALLOW_LOOPBACK
          ? { EGRESS_ALLOW_LOOPBACK: 'true', EGRESS_ALLOWED_PORTS: process.env.EGRESS_ALLOWED_PORTS ?? `443,${demo.port}` }
          : {}),
        ...Object.fromEntries(Object.entries(serviceSecrets).filter(([name]) => !process.env[name] && !BUS_SECRET_NAMES.includes(name))),
        ...busEnvForApp(app, secrets),
        PORT: String(ports[app]),
      };
      const child = spawn(process.execPath, [entry], { cwd: REPO, env, stdio: 'inherit' });
      children.set(app, child);
      child.on('exit', (code, signal) => {
        children.delete(app);
        if (!stopping)
          shutdown(1, `${app} exited unexpectedly (${signal ?? `exit code ${code}`}): stopping everything`);
      });
    }

    const notReady = await waitUntilReady(ports, children);
    if (stopping) return;
    if (notReady) return shutdown(1, notReady);

    const gateway = `http://127.0.0.1:${ports.gateway}`;
    let demoProviderId = null;
    if (demo) {
      try {
        demoProviderId = await registerDemoProvider(gateway, demo, demoProviderSecret);
      } catch (err) {
        log(`the demo provider was not registered: ${err.message}`);
      }
    }
    const clientId = process.env.BOOTSTRAP_CLIENT_ID ?? 'admin';
    const secretRef = process.env.BOOTSTRAP_CLIENT_SECRET
      ? '"$BOOTSTRAP_CLIENT_SECRET"'
      : `"$(node -p "require('./.data/secrets.json').BOOTSTRAP_CLIENT_SECRET")"`;
    process.stdout.write(
      `\nGateway ready: ${gateway}\n` +
        `  admin client '${clientId}' (its secret is in .data/secrets.json); get a token with:\n` +
        `    curl -s -u ${clientId}:${secretRef} -d grant_type=client_credentials ${gateway}/api/v1/oauth/token\n` +
        `  then: curl -H "Authorization: Bearer <access_token>" ${gateway}/api/v2/externalOAuth/providers/\n` +
        (upstream.UPSTREAM_AUTHORIZATION_URL
          ? `  people sign in at ${gateway}/api/v1/oauth/authorize through the demo identity provider (see the README)\n`
          : '') +
        (demoProviderId ? `  demo OAuth provider registered for org 'default': ${demoProviderId} (README: "Connect an account")\n` : '') +
        `Press Ctrl-C to stop\n\n`,
    );
  } catch (err) {
    if (!stopping) shutdown(1, `failed: ${err.message}`);
  }
}

// PostgreSQL and Redis: the URLs from the environment, or persistent local servers in .data/.
async function provisionServices() {
  const state = readJson(STATE_FILE) ?? {};
  const [databaseUrl, redisUrl] = await Promise.all([
    process.env.DATABASE_URL ??
      startPostgres({
        dataDir: path.join(DATA_DIR, 'postgres'),
        preferredPort: state.postgresPort,
        persistent: true,
        log,
      }).then(async (pg) => {
        state.postgresPort = pg.port;
        return createDatabase(pg.url, DATABASE_NAME);
      }),
    process.env.REDIS_URL ??
      startRedis({
        dir: path.join(DATA_DIR, 'redis'),
        preferredPort: state.redisPort,
        persistent: true,
        log,
      }).then((redis) => {
        state.redisPort = redis.port;
        return redis.url;
      }),
  ]);
  fs.writeFileSync(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  if (process.env.DATABASE_URL) log('using DATABASE_URL from the environment');
  if (process.env.REDIS_URL) log('using REDIS_URL from the environment');
  return { databaseUrl, redisUrl };
}

// Builds the four apps with Nx; resolves with the exit code.
function runBuild(children) {
  log('building apps');
  const nx = nxBin();
  const args = [nx, 'run-many', '-t', 'build', `--projects=${APPS.join(',')}`, '--outputStyle=static'];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, NX_DAEMON: 'false' },
    stdio: 'inherit',
  });
  children.set('build', child);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      log(`could not run nx: ${err.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      children.delete('build');
      resolve(signal ? 128 + (os.constants.signals[signal] ?? 0) : code);
    });
  });
}

// nx's CLI script, from its package.json (nx 23 ships it as dist/bin/nx.js, older ones bin/nx.js).
export function nxBin() {
  const dir = path.join(REPO, 'node_modules', 'nx');
  const bin = readJson(path.join(dir, 'package.json'))?.bin;
  return path.join(dir, (typeof bin === 'string' ? bin : bin?.nx) ?? 'bin/nx.js');
}

// Gateway: GATEWAY_PORT (must be free) or 3000 if free, else any free port; other apps: free ports.
// Starts the bundled demo identity provider (people sign in there at /api/v1/oauth/authorize) and
// resolves with the UPSTREAM_* variables that point the broker at it.
async function startDemoIdp(children, publicUrl, clientSecret, providerSecret, isStopping) {
  const explicit = process.env.DEMO_IDP_PORT ? Number(process.env.DEMO_IDP_PORT) : null;
  const port = await freePort(explicit ?? DEFAULT_DEMO_IDP_PORT);
  const child = spawn(process.execPath, [DEMO_IDP_SCRIPT], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '',
      DEMO_IDP_PORT: String(port),
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
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.set('demo-idp', child);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo identity provider did not start in 15 s')), 15_000);
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      if (String(chunk).includes('demo-idp ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete('demo-idp');
      if (!isStopping()) reject(new Error(`the demo identity provider exited (${code})`));
    });
  });
  const issuer = `http://127.0.0.1:${port}`;
  log(`demo identity provider on ${issuer} (any e-mail address signs in)`);
  return {
    port,
    issuer,
    env: {
      UPSTREAM_AUTHORIZATION_URL: `${issuer}/auth`,
      UPSTREAM_TOKEN_URL: `${issuer}/token`,
      UPSTREAM_USERINFO_URL: `${issuer}/me`,
      UPSTREAM_CLIENT_ID: 'broker-gateway',
      UPSTREAM_CLIENT_SECRET: clientSecret,
    },
  };
}

// Registers the demo provider as an `oidc` provider of the bootstrap org (once; found by name after).
async function registerDemoProvider(gateway, demo, providerSecret) {
  const clientId = process.env.BOOTSTRAP_CLIENT_ID ?? 'admin';
  const secret = process.env.BOOTSTRAP_CLIENT_SECRET ?? loadSecrets().BOOTSTRAP_CLIENT_SECRET;
  const tokenRes = await fetch(`${gateway}/api/v1/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=providers:read providers:write',
  });
  if (!tokenRes.ok) throw new Error(`admin token refused (${tokenRes.status})`);
  const { access_token: token } = await tokenRes.json();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const list = await (await fetch(`${gateway}/api/v2/externalOAuth/providers/?types=oidc`, { headers })).json();
  const name = `Demo provider (${demo.issuer})`;
  const existing = list.data.find((p) => p.name === name);
  if (existing) return existing.id;
  const res = await fetch(`${gateway}/api/v2/externalOAuth/providers/`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ type: 'oidc', name, clientId: DEMO_PROVIDER_CLIENT_ID, clientSecret: providerSecret, issuer: demo.issuer }),
  });
  if (res.status !== 201) throw new Error(`could not register the demo provider (${res.status}: ${await res.text()})`);
  return (await res.json()).id;
}

async function choosePorts() {
  const ports = {};
  const taken = new Set();
  const explicit = process.env.GATEWAY_PORT ? Number(process.env.GATEWAY_PORT) : null;
  const gateway = await freePort(explicit ?? DEFAULT_GATEWAY_PORT);
  if (explicit && gateway !== explicit) throw new Error(`GATEWAY_PORT ${explicit} is already in use`);
  if (!explicit && gateway !== DEFAULT_GATEWAY_PORT)
    log(`port ${DEFAULT_GATEWAY_PORT} is busy: gateway uses ${gateway}`);
  ports.gateway = gateway;
  taken.add(gateway);
  for (const app of APPS.filter((a) => a !== 'gateway')) {
    let port;
    do port = await freePort();
    while (taken.has(port));
    taken.add(port);
    ports[app] = port;
  }
  return ports;
}

// Polls every app's readiness endpoint; resolves null when all answer 200, else what went wrong.
async function waitUntilReady(ports, children) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const results = await Promise.all(
    APPS.map(async (app) => {
      const url = `http://127.0.0.1:${ports[app]}${READY_PATH}`;
      while (Date.now() < deadline) {
        if (!children.has(app)) return `${app} exited before it was ready`;
        if ((await httpStatus(url)) === 200) {
          log(`${app} ready on port ${ports[app]}`);
          return null;
        }
        await sleep(250);
      }
      return `${app} was not ready after ${READY_TIMEOUT_MS / 1000} s (GET ${url} never answered 200)`;
    }),
  );
  const failures = results.filter(Boolean);
  return failures.length ? `${failures.join('; ')}: stopping everything` : null;
}

function httpStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

// SIGTERM to every child, SIGKILL to those still running after the grace period (or when forced).
async function stopChildren(children, isForced) {
  const running = [...children.entries()];
  if (!running.length) return;
  log(`stopping ${running.map(([name]) => name).join(', ')}`);
  const exited = running.map(
    ([, child]) =>
      new Promise((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve),
      ),
  );
  for (const [, child] of running) child.kill('SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  const all = Promise.all(exited);
  let done = false;
  all.then(() => (done = true));
  while (!done && Date.now() < deadline && !isForced()) await sleep(50);
  if (!done) {
    const stuck = running.filter(([, child]) => child.exitCode === null && child.signalCode === null);
    if (stuck.length)
      log(
        `killing ${stuck.map(([name]) => name).join(', ')} (did not stop within ${STOP_GRACE_MS / 1000} s)`,
      );
    for (const [, child] of stuck) child.kill('SIGKILL');
    await all;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await start();
}
