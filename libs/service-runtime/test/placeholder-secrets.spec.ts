import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testBusKeys } from '@broker/testing';
import { ConfigError, loadServiceConfig } from '../src';

const ROOT = join(__dirname, '..', '..', '..');
const REQ = { database: true, secrets: true, busServer: true, defaultPort: 3102 };

/** A production environment of the token-broker with real, random secrets and keys. */
function realEnv(): Record<string, string> {
  const keys = testBusKeys();
  return {
    NODE_ENV: 'production',
    DATABASE_URL: `postgres://broker:${randomBytes(24).toString('hex')}@postgres:5432/broker`,
    REDIS_URL: `redis://token-broker:${randomBytes(24).toString('base64url')}@redis:6379`,
    BUS_SERVICE_PRIVATE_KEY: keys.privateKeys['token-broker'],
    BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys,
    EVENTS_SIGNING_KEY: keys.eventsSigningKeys['token-broker'],
    EVENTS_PUBLIC_KEYS: keys.eventsPublicKeys,
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    SECRET_PEPPER: randomBytes(32).toString('base64'),
    BOOTSTRAP_CLIENT_SECRET: randomBytes(32).toString('base64'),
  };
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadServiceConfig('token-broker', env, REQ);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

/** KEY=VALUE lines of a docker env template (comments skipped): `.env.example` by default. */
function dotenvExample(file = '.env.example'): Record<string, string> {
  const text = readFileSync(join(ROOT, 'docker', file), 'utf8');
  return Object.fromEntries([...text.matchAll(/^([A-Z_]+)=(.*)$/gm)].map(([, k, v]) => [k, v.trim()]));
}

/** The stringData entries of the named Secrets of k8s/secret.example.yaml, later ones winning (as envFrom does). */
function k8sSecretExample(...names: string[]): Record<string, string> {
  const text = readFileSync(join(ROOT, 'k8s', 'secret.example.yaml'), 'utf8');
  const out: Record<string, string> = {};
  for (const name of names) {
    const doc = text.split(/^---$/m).find((d) => new RegExp(`^ {2}name: ${name}$`, 'm').test(d));
    if (!doc) throw new Error(`no Secret ${name} in k8s/secret.example.yaml`);
    const data = doc.slice(doc.indexOf('stringData:'));
    Object.assign(
      out,
      Object.fromEntries([...data.matchAll(/^ {2}([A-Z_]+):\s*(\S.*)$/gm)].map(([, k, v]) => [k, v.trim()])),
    );
  }
  return out;
}

const KEY_SECRETS = [
  'BUS_SERVICE_PRIVATE_KEY',
  'EVENTS_SIGNING_KEY',
  'ENCRYPTION_KEYS',
  'SECRET_PEPPER',
  'BOOTSTRAP_CLIENT_SECRET',
];

describe('production refuses placeholder and example secrets', () => {
  it('accepts real random secrets', () => {
    expect(problemsOf(realEnv())).toEqual([]);
  });

  it('refuses every secret of docker/.env.example and docker/token-broker.env.example as compose passes them, naming each variable', () => {
    const example = { ...dotenvExample(), ...dotenvExample('token-broker.env.example') };
    expect(Object.keys(example)).toEqual(expect.arrayContaining([...KEY_SECRETS, 'POSTGRES_PASSWORD']));
    // compose.yaml builds DATABASE_URL from POSTGRES_PASSWORD and passes every other line as is.
    const { POSTGRES_PASSWORD, ...rest } = example;
    const env = {
      ...realEnv(),
      ...rest,
      DATABASE_URL: `postgres://broker:${POSTGRES_PASSWORD}@postgres:5432/broker`,
    };
    const problems = problemsOf(env);
    for (const name of [...KEY_SECRETS, 'DATABASE_URL']) {
      expect(problems).toContainEqual(
        expect.stringMatching(new RegExp(`^${name}: .*placeholder.*NODE_ENV=production`)),
      );
    }
    // One line per variable, and no value is repeated back.
    expect(new Set(problems.map((p) => p.split(':')[0])).size).toBe(problems.length);
    for (const value of Object.values(example)) expect(problems.join('\n')).not.toContain(value);
  });

  it('refuses every secret of k8s/secret.example.yaml (the token-broker’s own Secret: one per app), naming each variable', () => {
    const example = k8sSecretExample('token-broker-secrets');
    expect(Object.keys(example)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', ...KEY_SECRETS]),
    );
    const problems = problemsOf({ ...realEnv(), ...example });
    for (const name of KEY_SECRETS) {
      expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${name}: is a placeholder`)));
    }
    expect(problems).toContainEqual(
      expect.stringMatching(/^DATABASE_URL: its password is a well-known default value/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^REDIS_URL: its password is a well-known default value/),
    );
  });

  it('refuses the placeholders of every app’s own key file and Secret (worker, provider-registry)', () => {
    for (const [app, file, secret] of [
      ['worker', 'worker.env.example', 'worker-secrets'],
      ['provider-registry', 'provider-registry.env.example', 'provider-registry-secrets'],
    ] as const) {
      for (const example of [dotenvExample(file), k8sSecretExample(secret)]) {
        // The URLs' placeholder passwords are refused as well-known values (the test above).
        const names = Object.keys(example).filter((n) => n !== 'REDIS_URL' && n !== 'DATABASE_URL');
        expect(names.length).toBeGreaterThan(0);
        let problems: string[] = [];
        try {
          loadServiceConfig(
            app,
            { ...realEnv(), ...example },
            { database: true, secrets: true, busServer: app === 'provider-registry', defaultPort: 3101 },
          );
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          problems = err.problems;
        }
        for (const name of names)
          expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${name}: is a placeholder`)));
      }
    }
  });

  it('refuses the old compose default password and an upstream client secret left as a placeholder', () => {
    const problems = problemsOf({
      ...realEnv(),
      DATABASE_URL: 'postgres://broker:broker@postgres:5432/broker',
      UPSTREAM_AUTHORIZATION_URL: 'https://idp.example.com/auth',
      UPSTREAM_TOKEN_URL: 'https://idp.example.com/token',
      UPSTREAM_USERINFO_URL: 'https://idp.example.com/userinfo',
      UPSTREAM_CLIENT_ID: 'broker',
      UPSTREAM_CLIENT_SECRET: 'CHANGE_ME',
    });
    expect(problems).toEqual([
      'UPSTREAM_CLIENT_SECRET: is a placeholder (it contains "change_me"); use the secret your identity provider issued (refused when NODE_ENV=production)',
      'DATABASE_URL: its password is a well-known default value; set a real password (refused when NODE_ENV=production)',
    ]);
  });

  it('refuses keys and secrets that are valid in form but not random (minimum entropy)', () => {
    const problems = problemsOf({
      ...realEnv(),
      BUS_SERVICE_PRIVATE_KEY: `b1:${Buffer.alloc(32, 7).toString('base64url')}`,
      SECRET_PEPPER: Buffer.from('abcdabcdabcdabcdabcdabcdabcdabcd').toString('base64'),
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')},k2:${Buffer.alloc(32).toString('base64')}`,
      BOOTSTRAP_CLIENT_SECRET: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'BOOTSTRAP_CLIENT_SECRET',
      'BUS_SERVICE_PRIVATE_KEY',
      'ENCRYPTION_KEYS',
      'SECRET_PEPPER',
    ]);
    expect(problems).toContainEqual(
      expect.stringMatching(/^BUS_SERVICE_PRIVATE_KEY: is not random enough \(only 1 distinct bytes\)/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^BOOTSTRAP_CLIENT_SECRET: is too predictable \(about 0 bits/),
    );
  });

  it('leaves development and test environments alone (local defaults and fixtures)', () => {
    // The template's SECRET_PEPPER and BOOTSTRAP_CLIENT_SECRET (its keys are not even well-formed).
    const { SECRET_PEPPER, BOOTSTRAP_CLIENT_SECRET } = dotenvExample();
    const env = { ...realEnv(), SECRET_PEPPER, BOOTSTRAP_CLIENT_SECRET, NODE_ENV: 'development' };
    expect(problemsOf(env)).toEqual([]);
    expect(problemsOf({ ...env, NODE_ENV: 'test' })).toEqual([]);
  });
});
