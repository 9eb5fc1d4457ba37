import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BusClientProxy } from '@broker/bus';
import { parseEventPublicKeys, parseServicePublicKeys, verifyEvent } from '@broker/bus-protocol';
import { type BrokerEvent, type BusEvent, isAuthorizationEvent } from '@broker/contracts';
import {
  TestBusKeys,
  appScopedEnv,
  envForApp,
  freePort,
  testBusKeys,
  testRedisUrl,
  uniquePrefix,
} from '@broker/testing';

export { freePort };

const ROOT = join(__dirname, '..', '..');

/** Path of a built service's entry point. */
export function appEntry(app: string): string {
  return join(ROOT, 'dist', 'apps', app, 'main.js');
}

/** One service running as its own process, with its output kept for assertions. */
export class ServiceProcess {
  readonly output: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(
    readonly app: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether the process runs (started and not exited). */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The signal that ended the process, if one did. */
  get signal(): NodeJS.Signals | null {
    return this.child?.signalCode ?? null;
  }

  start(): this {
    const entry = appEntry(this.app);
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npm run build)`);
    const child = spawn(process.execPath, [entry], {
      env: { PATH: process.env['PATH'] ?? '', ...envForApp(this.app, this.env), PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.child = child;
    return this;
  }

  /** Resolves when /health/ready answers 200; rejects if the process exits or time runs out. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited?.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`${this.app} exited during start-up:\n${this.output.join('')}`);
      try {
        const res = await fetch(`${this.url}/health/ready`);
        if (res.status === 200) {
          const body = (await res.json().catch(() => ({}))) as { service?: string };
          if (body.service !== this.app)
            throw new Error(
              `port ${this.port} answers as ${body.service ?? 'something else'}, not ${this.app}`,
            );
          return;
        }
      } catch (err) {
        if (err instanceof Error && err.message.startsWith(`port ${this.port} answers`)) throw err;
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.app} not ready after ${timeoutMs} ms:\n${this.output.join('')}`);
  }

  /** Sends SIGTERM and resolves with the exit code (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code ?? null;
  }

  /** SIGKILL: the process dies at once, mid-work (crash tests). */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Waits for the process to exit by itself. */
  exitCode(): Promise<number | null> {
    return this.exited ?? Promise.resolve(null);
  }
}

/**
 * The environment of one test system: its own database and bus prefix on the shared test servers,
 * fresh keys (each private key only for its own service: see envForApp), and the gateway's URL as
 * issuer. `extra` adds or overrides variables.
 */
export function systemEnv(
  databaseUrl: string,
  gatewayPort: number,
  label: string,
  extra: Record<string, string> = {},
  keys: TestBusKeys = testBusKeys(),
): Record<string, string> {
  return {
    ...appScopedEnv(keys),
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: testRedisUrl(),
    BUS_PREFIX: uniquePrefix(label),
    PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SECRET_PEPPER: randomBytes(32).toString('base64'),
    ...extra,
  };
}

/**
 * Starts the bundled demo identity provider (tools/demo-idp/server.mjs) on `port` with its
 * DEMO_IDP_* settings, its output appended to `output`; `ready` resolves once it says it serves
 * its issuer, and rejects when it exits first or is not ready within `timeoutMs`.
 */
export function spawnDemoIdp(
  port: number,
  env: Record<string, string>,
  output: string[],
  timeoutMs: number,
): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [join(ROOT, 'tools', 'demo-idp', 'server.mjs')], {
    env: { PATH: process.env['PATH'] ?? '', DEMO_IDP_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`demo-idp not ready after ${timeoutMs} ms:\n${output.join('')}`)),
      timeoutMs,
    );
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      output.push(d.toString());
      if (output.join('').includes(`demo-idp ready http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo-idp exited with ${code}:\n${output.join('')}`));
    });
  });
  return { child, ready };
}

/** The bundled demo identity provider (oidc-provider), as its own process, for sign-in tests. */
export class DemoIdpProcess {
  readonly output: string[] = [];
  private child?: ChildProcess;

  constructor(
    readonly port: number,
    readonly clientSecret: string,
    readonly redirectUris: string[],
    readonly clientId = 'broker-gateway',
    /** More DEMO_IDP_* variables (provider clients, token lifetime, test hooks). */
    readonly extraEnv: Record<string, string> = {},
  ) {}

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The gateway variables that point the broker's sign-in at this provider. */
  upstreamEnv(): Record<string, string> {
    return {
      UPSTREAM_AUTHORIZATION_URL: `${this.issuer}/auth`,
      UPSTREAM_TOKEN_URL: `${this.issuer}/token`,
      UPSTREAM_USERINFO_URL: `${this.issuer}/me`,
      UPSTREAM_CLIENT_ID: this.clientId,
      UPSTREAM_CLIENT_SECRET: this.clientSecret,
    };
  }

  start(timeoutMs = 15_000): Promise<void> {
    const { child, ready } = spawnDemoIdp(
      this.port,
      {
        DEMO_IDP_CLIENT_ID: this.clientId,
        DEMO_IDP_CLIENT_SECRET: this.clientSecret,
        DEMO_IDP_REDIRECT_URIS: this.redirectUris.join(' '),
        ...this.extraEnv,
      },
      this.output,
      timeoutMs,
    );
    this.child = child;
    return ready;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child?.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** A bus client holding what a caller of this test system is given: the services' public keys. */
export function busClientFor(
  env: Record<string, string>,
  name = 'e2e',
  defaultTimeoutMs?: number,
): BusClientProxy {
  return new BusClientProxy({
    redisUrl: env['REDIS_URL'],
    servicePublicKeys: parseServicePublicKeys(env['BUS_SERVICE_PUBLIC_KEYS']),
    prefix: env['BUS_PREFIX'],
    name,
    ...(defaultTimeoutMs ? { defaultTimeoutMs } : {}),
  });
}

/** The authorization event a message of the events channel carries, if a broker publisher signed it (provider notices: undefined). */
export function genuineEvent(env: Record<string, string>, message: string): BrokerEvent | undefined {
  const event = genuineBusEvent(env, message);
  return event && isAuthorizationEvent(event) ? event : undefined;
}

/** Any event of the events channel (authorization events and provider notices), if a publisher signed it. */
export function genuineBusEvent(env: Record<string, string>, message: string): BusEvent | undefined {
  const checked = verifyEvent(parseEventPublicKeys(env['EVENTS_PUBLIC_KEYS']), message);
  return checked.ok ? checked.event : undefined;
}

/** What a consumer service is given to reach the token-broker (its public key and the events keys). */
export function consumerKeys(env: Record<string, string>): {
  brokerPublicKey: string;
  eventsPublicKeys: string;
} {
  const entry = env['BUS_SERVICE_PUBLIC_KEYS'].split(',').find((e) => e.startsWith('token-broker='));
  if (!entry) throw new Error('no token-broker key in BUS_SERVICE_PUBLIC_KEYS');
  return {
    brokerPublicKey: entry.slice('token-broker='.length),
    eventsPublicKeys: env['EVENTS_PUBLIC_KEYS'],
  };
}
