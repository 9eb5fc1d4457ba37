import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type IORedis from 'ioredis';
import { createRedisConnection } from '../src';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * REDIS_URL=redis+sentinel://… against a real Sentinel (redis-server --sentinel) watching a real
 * master, both started here: the connection asks the Sentinel for the master and talks to it.
 */
describe('a Sentinel REDIS_URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-'));
  const children: ChildProcess[] = [];
  let masterPort: number;
  let sentinelPort: number;
  let redis: IORedis | undefined;

  beforeAll(async () => {
    masterPort = await freePort();
    sentinelPort = await freePort();
    children.push(
      spawn(
        'redis-server',
        ['--port', String(masterPort), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
        { stdio: 'ignore' },
      ),
    );
    const config = join(dir, 'sentinel.conf');
    writeFileSync(
      config,
      `port ${sentinelPort}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor main-db 127.0.0.1 ${masterPort} 1\n`,
    );
    children.push(spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' }));
  });

  afterAll(async () => {
    await redis?.quit();
    await Promise.all(
      children.map(
        (c) =>
          new Promise((resolve) =>
            c.exitCode !== null ? resolve(null) : (c.once('exit', resolve), c.kill('SIGKILL')),
          ),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the master through the Sentinel and works on it', async () => {
    redis = createRedisConnection(`redis+sentinel://127.0.0.1:${sentinelPort}/main-db`, 'test:sentinel', {
      // The processes above may take a moment to listen.
      sentinelRetryStrategy: (times: number) => (times > 50 ? null : 100),
    });
    await redis.set('sentinel-test', 'through the sentinel');
    expect(await redis.get('sentinel-test')).toBe('through the sentinel');
    // The command went to the master the Sentinel names, not to the Sentinel.
    const info = await redis.info('server');
    expect(info).toContain(`tcp_port:${masterPort}`);
  }, 20_000);
});
