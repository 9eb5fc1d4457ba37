import { refreshAheadDelayMs } from '../src';

describe('refresh-ahead timing', () => {
  const now = 1_000_000;
  it('refreshes a fifth of the lifetime before expiry, minus at most 10 % jitter', () => {
    const hour = new Date(now + 3_600_000);
    expect(refreshAheadDelayMs(hour, now, () => 0)).toBe(3_600_000 - 600_000);
    expect(refreshAheadDelayMs(hour, now, () => 1)).toBe(3_600_000 - 600_000 - 60_000);
  });

  it('keeps the margin between 10 s and 10 min', () => {
    expect(refreshAheadDelayMs(new Date(now + 20_000), now, () => 0)).toBe(10_000);
    expect(refreshAheadDelayMs(new Date(now + 8 * 3_600_000), now, () => 0)).toBe(8 * 3_600_000 - 600_000);
  });

  it('never schedules in the past', () => {
    expect(refreshAheadDelayMs(new Date(now + 5_000), now, () => 1)).toBe(0);
    expect(refreshAheadDelayMs(new Date(now - 5_000), now, () => 0)).toBe(0);
  });
});
