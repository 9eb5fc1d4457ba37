import { CachedCount, countedGauge } from '../src/lib/metrics/cached-count';
import { metricsRegistry } from '../src/lib/metrics/metrics-registry';

describe('counts behind gauges', () => {
  it('runs the query at most once per interval, one at a time, and keeps the last value when it fails', async () => {
    let runs = 0;
    let fail = false;
    const count = new CachedCount(async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 20));
      if (fail) throw new Error('database down');
      return runs;
    }, 100);
    // Concurrent scrapes share the first computation.
    expect(await Promise.all([count.get(), count.get(), count.get()])).toEqual([1, 1, 1]);
    expect(await count.get()).toBe(1);
    expect(runs).toBe(1);
    await new Promise((r) => setTimeout(r, 120));
    // Stale: the old value is answered at once while it recomputes.
    expect(await count.get()).toBe(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(await count.get()).toBe(2);
    fail = true;
    await new Promise((r) => setTimeout(r, 120));
    await count.get();
    await new Promise((r) => setTimeout(r, 40));
    expect(await count.get()).toBe(2);
  });

  it('a gauge fed by several parts shows every part, and a removed part stops', async () => {
    const stopA = countedGauge(
      { name: 'broker_encrypted_values', help: 'test', labelNames: ['domain', 'key_id'], part: 'a' },
      async () => [{ labels: { domain: 'a', key_id: 'k1' }, value: 3 }],
    );
    const stopB = countedGauge(
      { name: 'broker_encrypted_values', help: 'test', labelNames: ['domain', 'key_id'], part: 'b' },
      async () => [{ labels: { domain: 'b', key_id: 'k2' }, value: 5 }],
    );
    let text = await metricsRegistry.getSingleMetricAsString('broker_encrypted_values');
    expect(text).toContain('broker_encrypted_values{domain="a",key_id="k1"} 3');
    expect(text).toContain('broker_encrypted_values{domain="b",key_id="k2"} 5');
    stopA();
    text = await metricsRegistry.getSingleMetricAsString('broker_encrypted_values');
    expect(text).not.toContain('domain="a"');
    stopB();
  });
});
