import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@broker/testing';
import { FakeBroker, startFakeBroker } from './support/fake-broker';

const REPO = join(__dirname, '..', '..', '..');
const PACKAGE_DIR = join(REPO, 'dist', 'packages', 'broker-client');

/**
 * The client as service authors get it: built, packed with `npm pack`, installed into a scratch
 * project in a temp folder outside the monorepo (never near the repo's own node_modules), and used
 * from plain Node scripts, CommonJS and ESM, with no NestJS installed.
 */
describe('the @broker/broker-client package', () => {
  let scratch: string;
  let broker: FakeBroker;

  const node = (file: string, args: string[] = []) =>
    execFileSync(process.execPath, [file, ...args], { cwd: scratch, encoding: 'utf8', timeout: 20_000 });
  // Asynchronous: the fake broker answering the script runs in this process.
  const nodeAsync = async (file: string, args: string[]) =>
    (
      await promisify(execFile)(process.execPath, [file, ...args], {
        cwd: scratch,
        encoding: 'utf8',
        timeout: 20_000,
      })
    ).stdout;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(REPO, 'tools', 'build', 'build-client-package.mjs')], {
      cwd: REPO,
      stdio: 'pipe',
    });
    scratch = mkdtempSync(join(tmpdir(), 'broker-client-scratch-'));
    execFileSync('npm', ['pack', '--pack-destination', scratch, '--silent'], {
      cwd: PACKAGE_DIR,
      stdio: 'pipe',
    });
    const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');
    writeFileSync(
      join(scratch, 'package.json'),
      JSON.stringify({ name: 'scratch-service', private: true, version: '1.0.0' }),
    );
    const install = (mode: string) =>
      execFileSync(
        'npm',
        [
          'install',
          mode,
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
          '--loglevel=error',
          join(scratch, tarball),
        ],
        { cwd: scratch, stdio: 'pipe', timeout: 120_000 },
      );
    try {
      install('--offline'); // the dependencies are in npm's cache since the workspace's own install
    } catch {
      install('--prefer-offline');
    }
    broker = await startFakeBroker('package');
  }, 180_000);

  afterAll(async () => {
    await broker?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('installs with only its declared dependencies: no NestJS, no BullMQ, no workspace code', () => {
    expect(existsSync(join(scratch, 'node_modules', '@broker', 'broker-client', 'dist', 'index.cjs'))).toBe(
      true,
    );
    expect(existsSync(join(scratch, 'node_modules', '@nestjs'))).toBe(false);
    expect(existsSync(join(scratch, 'node_modules', 'bullmq'))).toBe(false);
    // The main entry loads without NestJS; the `/nest` entry says it needs it.
    expect(node('-e', ["console.log(typeof require('@broker/broker-client').BrokerClient)"]).trim()).toBe(
      'function',
    );
    expect(() => node('-e', ["require('@broker/broker-client/nest')"])).toThrow(/@nestjs\/common/);
  });

  it('connect() against an unreachable Redis rejects within its timeout (CommonJS)', async () => {
    const port = await freePort();
    writeFileSync(
      join(scratch, 'unreachable.cjs'),
      `const { BrokerClient, BrokerClientError } = require('@broker/broker-client');
const started = Date.now();
BrokerClient.connect({
  redisUrl: 'redis://127.0.0.1:${port}',
  brokerPublicKey: process.argv[2],
  eventsPublicKeys: process.argv[3],
  prefix: 'broker',
  credentials: { tokenUrl: 'http://127.0.0.1:${port}/api/v1/oauth/token', clientId: 'svc', clientSecret: 'secret' },
  connectTimeoutMs: 800,
  logger: { warn() {} },
}).then(
  () => { console.log(JSON.stringify({ connected: true })); process.exit(1); },
  (err) => { console.log(JSON.stringify({ typed: err instanceof BrokerClientError, code: err.code, ms: Date.now() - started })); process.exit(0); },
);
`,
    );
    const result = JSON.parse(node('unreachable.cjs', [broker.brokerPublicKey, broker.eventsPublicKeys])) as {
      typed: boolean;
      code: string;
      ms: number;
    };
    expect(result).toMatchObject({ typed: true, code: 'UNAVAILABLE' });
    expect(result.ms).toBeLessThan(2_000);
  });

  it('gets a token from the broker over the bus from a plain ESM script', async () => {
    writeFileSync(
      join(scratch, 'acquire.mjs'),
      `import { BrokerClient } from '@broker/broker-client';
const [redisUrl, brokerPublicKey, eventsPublicKeys, prefix, tokenUrl, clientId, clientSecret] = process.argv.slice(2);
const broker = await BrokerClient.connect({ redisUrl, brokerPublicKey, eventsPublicKeys, prefix, credentials: { tokenUrl, clientId, clientSecret }, name: 'scratch-service' });
try {
  const token = await broker.acquire({ authorizationId: 'auth-1', minValiditySeconds: 60 });
  console.log(JSON.stringify({ authorizationId: token.authorizationId, hasToken: token.accessToken.length > 0, stats: broker.stats().busRequests }));
} finally {
  await broker.close();
}
`,
    );
    broker.state.reset();
    broker.state.authorizations.set('auth-1', {
      userId: 'user-1',
      providerId: 'github',
      lifetimeSeconds: 3600,
    });
    const out = JSON.parse(
      await nodeAsync('acquire.mjs', [
        broker.redisUrl,
        broker.brokerPublicKey,
        broker.eventsPublicKeys,
        broker.prefix,
        broker.tokenUrl,
        broker.clientId,
        broker.clientSecret,
      ]),
    ) as Record<string, unknown>;
    expect(out).toEqual({ authorizationId: 'auth-1', hasToken: true, stats: 1 });
    expect(broker.state.busCalls).toHaveLength(1);
  });

  it('ships type declarations a TypeScript consumer compiles against', () => {
    writeFileSync(
      join(scratch, 'typed.ts'),
      `import { BrokerClient, BrokerClientError, type AcquiredToken, type BrokerClientOptions } from '@broker/broker-client';
const options: BrokerClientOptions = { redisUrl: 'redis://x', brokerPublicKey: 'k:x', eventsPublicKeys: 'e:x', prefix: 'broker', credentials: { getAccessToken: async () => 't' } };
export async function use(): Promise<string> {
  const client = await BrokerClient.connect(options);
  try {
    const token: AcquiredToken = await client.acquire({ userId: 'u', providerId: 'p' });
    return token.accessToken;
  } catch (err) {
    if (err instanceof BrokerClientError && err.code === 'GONE') return '';
    throw err;
  }
}
`,
    );
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--skipLibCheck',
      '--types',
      'node',
      '--typeRoots',
      join(REPO, 'node_modules', '@types'),
      'typed.ts',
    ];
    expect(() =>
      execFileSync(process.execPath, [tsc, ...args], { cwd: scratch, encoding: 'utf8' }),
    ).not.toThrow();
  });
});
