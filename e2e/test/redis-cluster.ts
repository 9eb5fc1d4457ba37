import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import IORedis from 'ioredis';
import { freePort, sleep } from '@broker/testing';

const run = promisify(execFile);

/** An ACL user to create on every node: name, password and rules (scripts/lib/redis-acl.mjs). */
export interface ClusterUser {
  name: string;
  password: string;
  rules: string[];
}

/**
 * A real Redis Cluster of three masters on 127.0.0.1, started by the test (redis-server
 * --cluster-enabled yes, then redis-cli --cluster create) in a temporary folder, and removed by
 * stop(). Each node's cluster bus port is chosen free too (`--cluster-port`, Redis 7), instead of
 * the usual port + 10000 that another process may hold.
 */
export class LocalRedisCluster {
  readonly ports: number[] = [];
  private readonly children: ChildProcess[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));

  /** The REDIS_URL of the cluster for a user (none: the default user, which may do everything). */
  url(user?: { name: string; password: string }): string {
    const auth = user ? `${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@` : '';
    return `redis+cluster://${auth}${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  async start(masters = 3, timeoutMs = 20_000): Promise<this> {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      const busPort = await freePort();
      const nodeDir = join(this.dir, String(port));
      mkdirSync(nodeDir);
      // prettier-ignore
      const child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
        '--cluster-config-file', join(nodeDir, 'nodes.conf'), '--cluster-node-timeout', '2000',
        '--save', '', '--appendonly', 'no', '--dir', nodeDir,
      ], { stdio: 'ignore' });
      this.children.push(child);
      this.ports.push(port);
    }
    const deadline = Date.now() + timeoutMs;
    for (const port of this.ports)
      await this.until(deadline, () =>
        this.onNode(port, (r) => r.ping()).then(
          () => true,
          () => false,
        ),
      );
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...this.ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: timeoutMs },
    );
    for (const port of this.ports) {
      await this.until(deadline, async () => {
        const info = await this.onNode(port, (r) => r.cluster('INFO') as Promise<string>);
        return info.includes('cluster_state:ok');
      });
    }
    return this;
  }

  /** Creates the users on every node: Redis Cluster does not share ACL users between nodes. */
  async addUsers(users: ClusterUser[]): Promise<void> {
    for (const port of this.ports) {
      await this.onNode(port, async (r) => {
        for (const u of users) await r.call('ACL', 'SETUSER', u.name, 'reset', ...u.rules, `>${u.password}`);
      });
    }
  }

  /** Keys of every node matching `pattern` (node by node: KEYS is per node in a cluster). */
  async keys(pattern: string): Promise<string[]> {
    const out: string[] = [];
    for (const port of this.ports) out.push(...(await this.onNode(port, (r) => r.keys(pattern))));
    return out;
  }

  /** The ACL user of every client connection on every node (CLIENT LIST). */
  async clientUsers(): Promise<string[]> {
    const out: string[] = [];
    for (const port of this.ports) {
      const list = (await this.onNode(port, (r) => r.client('LIST'))) as string;
      out.push(...[...list.matchAll(/ user=(\S+)/g)].map((m) => m[1]));
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async onNode<T>(port: number, fn: (r: IORedis) => Promise<T>): Promise<T> {
    const r = new IORedis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  private async until(deadline: number, check: () => Promise<boolean>): Promise<void> {
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline)
        throw new Error(`Redis Cluster on ports ${this.ports.join(', ')} not ready in time`);
      await sleep(100);
    }
  }
}
