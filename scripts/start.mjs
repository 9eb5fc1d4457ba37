// `npm start`: runs the whole system on local defaults, as a supervisor. PostgreSQL and Redis are
// started from system binaries with their data in .data/ (unless DATABASE_URL / REDIS_URL are set),
// local secrets are generated once into .data/secrets.json, the four apps are built and started
// with the demo provider, and then:
//   - a service that dies is restarted with backoff (the others keep serving), and so is a local
//     Redis or PostgreSQL that dies (the services reconnect by themselves);
//   - SIGINT, SIGTERM or SIGHUP (to npm or to this process), or npm's death, stop everything it
//     started, in order, and it prints what it stopped;
//   - a second `npm start` on the same data folder refuses and says where the first one runs.
// Each app gets only its own keys (a serving service its bus private key, a publisher its events
// signing key; everyone the public keys) and, on the Redis provisioned here, its own Redis ACL user.
// Knobs: BROKER_DATA_DIR (default .data), GATEWAY_PORT, DEMO_IDP_PORT, SKIP_BUILD=1 (use dist/ as
// built), DATABASE_URL / REDIS_URL (existing servers), UPSTREAM_* (your own sign-in provider).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDeps } from './ensure-deps.mjs';
import { createDatabase, freePort, startPostgres, startRedis } from './lib/local-services.mjs';
import { LOCAL_QUEUE_DASHBOARD, localAclFile, localUserUrls } from './lib/redis-acl.mjs';
import { APPS, appEntry, builtAppsProblem, nxBin, runBuild } from './runner/build.mjs';
import {
  DEFAULT_DEMO_IDP_PORT,
  DEMO_IDP_SCRIPT,
  demoIdpEnv,
  registerDemoProvider,
  upstreamEnv,
} from './runner/demo-provider.mjs';
import { httpStatus, waitUntilReady } from './runner/readiness.mjs';
import { AlreadyRunningError, acquireRunLock } from './runner/run-lock.mjs';
import { loadSecrets, secretsForApp } from './runner/secrets.mjs';
import { watchServer } from './runner/server-watch.mjs';
import { REPO, runnerSettings, shown } from './runner/settings.mjs';
import { Supervisor } from './runner/supervisor.mjs';

export { SECRET_GENERATORS, loadSecrets } from './runner/secrets.mjs';
export { appEntry, nxBin };

const DATABASE_NAME = 'broker';
const DEFAULT_GATEWAY_PORT = 3000;
const READY_TIMEOUT_MS = 90_000;
// Where the README's local webhook receiver (tools/webhooks/receiver.cjs) listens: the worker may deliver there.
const DEMO_WEBHOOK_PORT = 8090;

const log = (msg) => process.stderr.write(`[start] ${msg}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `npm start` until a signal or a fatal error ends it (then the process exits). */
export async function start() {
  const settings = runnerSettings();
  fs.mkdirSync(settings.dataDir, { recursive: true });
  let lock;
  try {
    lock = await acquireRunLock(settings.lockFile, shown(settings.dataDir), log);
  } catch (err) {
    log(err instanceof AlreadyRunningError ? err.message : `failed: ${err.message}`);
    process.exit(1);
  }
  const sup = new Supervisor({ log, lock });
  sup.install();
  const stopping = () => sup.stopping !== null;

  try {
    await ensureDeps();
    // Before the servers: the local Redis starts with its ACL users, derived from the secrets.
    const secrets = loadSecrets(settings.secretsFile, (msg) =>
      log(msg.replace(settings.secretsFile, shown(settings.secretsFile))),
    );
    const { databaseUrl, redisUrl, redisUsers } = await provisionServers(settings, sup, secrets);
    if (stopping()) return;

    if (settings.skipBuild) log('SKIP_BUILD=1: using the apps already built in dist/');
    else {
      const build = await runBuild((child) => (sup.buildChild = child), log);
      if (stopping()) return;
      if (build !== 0)
        return sup.shutdown(1, `build failed (exit ${build}): see the errors above; nothing was started`);
    }
    const broken = builtAppsProblem();
    if (broken) return sup.shutdown(1, broken);

    const ports = await choosePorts(settings);
    const publicUrl = settings.publicUrl ?? `http://127.0.0.1:${ports.gateway}`;
    const { DEMO_IDP_CLIENT_SECRET: demoSecret, DEMO_PROVIDER_CLIENT_SECRET: providerSecret } = secrets;
    const demo = settings.externalUpstream
      ? null
      : await startDemoIdp(sup, settings, publicUrl, demoSecret, providerSecret);
    if (stopping()) return;

    for (const app of APPS) {
      const env = {
        ...process.env,
        NODE_ENV: process.env.NODE_ENV ?? 'development',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        PUBLIC_URL: publicUrl,
        DATABASE_URL: databaseUrl,
        // Its own Redis ACL user on the local Redis; a Redis given by REDIS_URL is the operator's.
        REDIS_URL: redisUsers?.[app] ?? redisUrl,
        ...(demo ? upstreamEnv(demo.issuer, demoSecret) : {}),
        // The demo provider lives on loopback: let the services reach it (a development setting).
        ...(demo && !process.env.EGRESS_ALLOW_LOOPBACK
          ? {
              EGRESS_ALLOW_LOOPBACK: 'true',
              EGRESS_ALLOWED_PORTS: process.env.EGRESS_ALLOWED_PORTS ?? `443,${demo.port},${DEMO_WEBHOOK_PORT}`,
            }
          : {}),
        // The queue dashboard (/admin/queues), read-only, as the local gateway's Redis user allows.
        ...(app === 'gateway' ? { QUEUE_DASHBOARD: process.env.QUEUE_DASHBOARD || LOCAL_QUEUE_DASHBOARD } : {}),
        ...secretsForApp(app, secrets),
        PORT: String(ports[app]),
      };
      await sup.spawn(app, { command: process.execPath, args: [appEntry(app)], cwd: REPO, env, port: ports[app] });
    }

    const notReady = await waitUntilReady(
      APPS,
      ports,
      (app) => sup.running(app),
      READY_TIMEOUT_MS,
      log,
      stopping,
    );
    if (stopping()) return;
    if (notReady) return sup.shutdown(1, `${notReady}: stopping everything`);

    const gateway = `http://127.0.0.1:${ports.gateway}`;
    const clientId = settings.bootstrapClientId;
    let demoProviderId = null;
    if (demo) {
      try {
        demoProviderId = await registerDemoProvider({
          gateway,
          issuer: demo.issuer,
          providerSecret,
          clientId,
          clientSecret: settings.bootstrapClientSecret ?? secrets.BOOTSTRAP_CLIENT_SECRET,
        });
      } catch (err) {
        log(`the demo provider was not registered: ${err.message}`);
      }
    }
    sup.up = true;
    lock.update({ gatewayUrl: gateway });
    const secretsShown = shown(settings.secretsFile);
    const secretRef = settings.bootstrapClientSecret
      ? '"$BOOTSTRAP_CLIENT_SECRET"'
      : `"$(node -p "require('${path.isAbsolute(secretsShown) ? secretsShown : `./${secretsShown}`}').BOOTSTRAP_CLIENT_SECRET")"`;
    process.stdout.write(
      `\nGateway ready: ${gateway}\n` +
        `  admin client '${clientId}' (its secret is in ${secretsShown}); get a token with:\n` +
        `    curl -s -u ${clientId}:${secretRef} -d grant_type=client_credentials ${gateway}/api/v1/oauth/token\n` +
        `  then: curl -H "Authorization: Bearer <access_token>" ${gateway}/api/v2/externalOAuth/providers/\n` +
        (demo
          ? `  people sign in at ${gateway}/api/v1/oauth/authorize through the demo identity provider (see the README)\n`
          : '') +
        (demoProviderId
          ? `  demo OAuth provider registered for org 'default': ${demoProviderId} (README: "Connect an account")\n`
          : '') +
        `Crashed services are restarted. Press Ctrl-C to stop everything (or: kill ${process.pid})\n\n`,
    );
  } catch (err) {
    if (!stopping()) sup.shutdown(1, `failed: ${err.message}`);
  }
}

// PostgreSQL and Redis: the URLs from the environment, or persistent local servers in the data
// folder, watched and restarted on the same port when they die. The local Redis loads its ACL users
// (one per service, demo-consumer, admin; docs/bus-security.md) from a file at every start, so a
// restarted one has them too; `redisUsers` is each user's REDIS_URL (null for a REDIS_URL given).
async function provisionServers(settings, sup, secrets) {
  let state = {};
  try {
    state = JSON.parse(fs.readFileSync(settings.stateFile, 'utf8'));
  } catch {
    /* first start */
  }
  const pgDir = path.join(settings.dataDir, 'postgres');
  const redisDir = path.join(settings.dataDir, 'redis');
  const aclFile = path.join(redisDir, 'users.acl');
  if (!settings.redisUrl) {
    fs.mkdirSync(redisDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(aclFile, localAclFile(settings.busPrefix, secrets.REDIS_ACL_SECRET), { mode: 0o600 });
  }
  const [databaseUrl, redisUrl] = await Promise.all([
    settings.databaseUrl ??
      startPostgres({ dataDir: pgDir, preferredPort: state.postgresPort, persistent: true, log }).then(
        async (pg) => {
          state.postgresPort = pg.port;
          const restart = () => startPostgres({ dataDir: pgDir, port: pg.port, persistent: true, log });
          sup.addServer('postgres', pg, watchServer('postgres', pg.pid, restart, log));
          return createDatabase(pg.url, DATABASE_NAME);
        },
      ),
    settings.redisUrl ??
      startRedis({ dir: redisDir, preferredPort: state.redisPort, persistent: true, aclFile, log }).then((redis) => {
        state.redisPort = redis.port;
        const restart = () => startRedis({ dir: redisDir, port: redis.port, persistent: true, aclFile, log });
        sup.addServer('redis-server', redis, watchServer('redis-server', redis.pid, restart, log));
        return redis.url;
      }),
  ]);
  fs.writeFileSync(settings.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  if (settings.databaseUrl) log('using DATABASE_URL from the environment');
  if (settings.redisUrl) log('using REDIS_URL from the environment (its ACL users are yours to set up: docs/bus-security.md)');
  const redisUsers = settings.redisUrl ? null : localUserUrls(redisUrl, settings.busPrefix, secrets.REDIS_ACL_SECRET);
  return { databaseUrl, redisUrl, redisUsers };
}

// Gateway: GATEWAY_PORT (must be free) or 3000 if free, else any free port; other apps: free ports.
async function choosePorts(settings) {
  /** @type {Record<string, number>} */
  const ports = {};
  const taken = new Set();
  const explicit = settings.gatewayPort;
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

// Starts the demo provider (supervised like a service) and waits until it answers its discovery document.
async function startDemoIdp(sup, settings, publicUrl, clientSecret, providerSecret) {
  const port = await freePort(settings.demoIdpPort ?? DEFAULT_DEMO_IDP_PORT);
  const issuer = `http://127.0.0.1:${port}`;
  const env = demoIdpEnv({ port, publicUrl, dataDir: settings.demoIdpDir, clientSecret, providerSecret });
  await sup.spawn('demo-idp', { command: process.execPath, args: [DEMO_IDP_SCRIPT], cwd: REPO, env, port });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && sup.stopping === null) {
    if (!sup.running('demo-idp'))
      throw new Error('the demo identity provider exited during start-up (see its output above)');
    if ((await httpStatus(`${issuer}/.well-known/openid-configuration`)) === 200) {
      log(
        `demo identity provider on ${issuer} (any e-mail address signs in; grants kept in ${shown(settings.demoIdpDir)})`,
      );
      return { port, issuer };
    }
    await sleep(100);
  }
  if (sup.stopping === null) throw new Error('the demo identity provider did not answer within 15 s');
  return null;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await start();
}
