import { randomBytes } from 'node:crypto';
import { testBusKeys } from '@broker/testing';
import { ConfigError, loadServiceConfig } from '../src';

const keys = testBusKeys();
// The gateway's environment: it calls the services (their public keys), serves no bus requests.
const valid = { REDIS_URL: 'redis://127.0.0.1:6379', BUS_SERVICE_PUBLIC_KEYS: keys.publicKeys };
const load = (extra: Record<string, string>) =>
  loadServiceConfig('gateway', { ...valid, ...extra }, { database: false, defaultPort: 3000 });

function problemsOf(extra: Record<string, string>): string[] {
  try {
    load(extra);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('QUEUE_DASHBOARD settings (docs/queue-dashboard.md)', () => {
  const key = randomBytes(32).toString('base64');

  it('is off unless configured', () => {
    expect(load({}).queueDashboard).toBeUndefined();
    expect(load({ QUEUE_DASHBOARD: 'off', QUEUE_DASHBOARD_SESSION_KEY: key }).queueDashboard).toBeUndefined();
  });

  it('takes read or operate with a 32-byte session key; the operator org defaults to the bootstrap org', () => {
    expect(load({ QUEUE_DASHBOARD: 'read', QUEUE_DASHBOARD_SESSION_KEY: key }).queueDashboard).toEqual({
      mode: 'read',
      sessionKey: Buffer.from(key, 'base64'),
      operatorOrgId: 'default',
    });
    const ops = load({
      QUEUE_DASHBOARD: 'operate',
      QUEUE_DASHBOARD_SESSION_KEY: key,
      BOOTSTRAP_ORG_ID: 'boot',
      OPERATOR_ORG_ID: 'ops',
    }).queueDashboard;
    expect(ops?.mode).toBe('operate');
    expect(ops?.operatorOrgId).toBe('ops');
    expect(
      load({ QUEUE_DASHBOARD: 'read', QUEUE_DASHBOARD_SESSION_KEY: key, BOOTSTRAP_ORG_ID: 'boot' })
        .queueDashboard?.operatorOrgId,
    ).toBe('boot');
  });

  it('stops the process naming the variable when a setting is wrong or missing', () => {
    expect(problemsOf({ QUEUE_DASHBOARD: 'on' })).toEqual([
      'QUEUE_DASHBOARD: must be one of off, read, operate',
    ]);
    expect(problemsOf({ QUEUE_DASHBOARD: 'read' })).toEqual([
      'QUEUE_DASHBOARD_SESSION_KEY: required when QUEUE_DASHBOARD=read',
    ]);
    expect(
      problemsOf({
        QUEUE_DASHBOARD: 'read',
        QUEUE_DASHBOARD_SESSION_KEY: randomBytes(16).toString('base64'),
      }),
    ).toEqual(['QUEUE_DASHBOARD_SESSION_KEY: must be 32 random bytes, base64-encoded']);
    expect(
      problemsOf({ QUEUE_DASHBOARD: 'read', QUEUE_DASHBOARD_SESSION_KEY: key, OPERATOR_ORG_ID: 'a b' }),
    ).toEqual(['OPERATOR_ORG_ID: letters, digits, _ and - only']);
  });
});
