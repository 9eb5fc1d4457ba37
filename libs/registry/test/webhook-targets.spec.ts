import type { DataSource } from 'typeorm';
import { BusException } from '@broker/bus';
import { DEFAULT_EGRESS_POLICY, createGuardedFetch } from '@broker/provider-adapters';
import { SecureConfigsService, WebhooksService, nextAttemptAt } from '../src';

/** Webhook targets under production settings (the default egress policy): only public https on an allowed port. */
describe('webhook targets in production settings', () => {
  // The target is checked before anything is stored: no database is reached for a refused URL.
  const unreachable = {} as DataSource;
  const webhooks = new WebhooksService(
    unreachable,
    new SecureConfigsService(unreachable, {} as never),
    DEFAULT_EGRESS_POLICY,
  );

  it.each([
    'http://127.0.0.1:8090/hooks',
    'https://127.0.0.1/hooks',
    'https://localhost/hooks',
    'https://10.1.2.3/hooks',
    'https://172.16.0.1/hooks',
    'https://192.168.0.10/hooks',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/hooks',
    'https://[::ffff:10.0.0.1]/hooks',
    'https://100.64.0.1/hooks',
    'https://hooks.internal/x',
    'http://example.com/hooks',
    'https://example.com:8443/hooks',
  ])('refuses %s', async (url) => {
    const refused = await webhooks.create('org', { url }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BusException);
    expect((refused as BusException).getError()).toMatchObject({
      code: 'UNPROCESSABLE',
      fields: [{ name: 'url' }],
    });
  });

  it('refuses at delivery time a public-looking name that resolves to a private address', async () => {
    const guarded = createGuardedFetch(DEFAULT_EGRESS_POLICY, {
      timeoutMs: 2_000,
      lookup: async () => [{ address: '10.0.0.5', family: 4 }],
    });
    await expect(guarded('https://hooks.example.com/x', { method: 'POST' })).rejects.toThrow(/egress denied/);
    await guarded.close();
  });

  it('retries with exponential backoff for the window, then gives up', () => {
    const created = new Date(0);
    const base = 30_000;
    const day = 86_400_000;
    const delays: number[] = [];
    let now = 0;
    for (let attempt = 1; attempt < 40; attempt++) {
      const next = nextAttemptAt(created, attempt, base, day, now, () => 0);
      if (!next) break;
      delays.push(next.getTime() - now);
      now = next.getTime();
    }
    expect(delays.slice(0, 4)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4 * 3_600_000);
    expect(now).toBe(day); // the last attempt at the window's end
    expect(nextAttemptAt(created, 40, base, day, day, () => 0)).toBeNull();
  });
});
