import { aheadDueAt, aheadMarginMs, decide, keepAliveDueAt, retryAt } from '../src';

const DAY = 86_400_000;

describe('refresh timing', () => {
  const now = Date.UTC(2026, 10, 1);

  it('plans a refresh ahead a fifth of the lifetime before expiry (10 s to 10 min), minus up to 10 % of it', () => {
    const written = new Date(now);
    expect(aheadDueAt(new Date(now + 3_600_000), written, () => 0).getTime()).toBe(now + 3_600_000 - 600_000);
    expect(aheadDueAt(new Date(now + 3_600_000), written, () => 1).getTime()).toBe(now + 3_600_000 - 660_000);
    expect(aheadDueAt(new Date(now + 20_000), written, () => 0).getTime()).toBe(now + 10_000);
    expect(aheadMarginMs(8 * 3_600_000)).toBe(600_000);
  });

  it('keeps an idle grant alive at three quarters of its provider’s idle window, or before its stated expiry', () => {
    const last = new Date(now);
    expect(
      keepAliveDueAt({
        lastRefreshAt: last,
        idleSeconds: 90 * 86_400,
        refreshTokenExpiresAt: null,
      })?.getTime(),
    ).toBe(now + 67.5 * DAY);
    expect(
      keepAliveDueAt({
        lastRefreshAt: last,
        idleSeconds: 60 * 86_400,
        refreshTokenExpiresAt: null,
      })?.getTime(),
    ).toBe(now + 45 * DAY);
    // GitHub App user tokens: the refresh token's own lifetime (about six months) decides.
    expect(
      keepAliveDueAt({
        lastRefreshAt: last,
        idleSeconds: null,
        refreshTokenExpiresAt: new Date(now + 184 * DAY),
      })?.getTime(),
    ).toBe(now + 138 * DAY);
    // Whichever comes first.
    expect(
      keepAliveDueAt({
        lastRefreshAt: last,
        idleSeconds: 90 * 86_400,
        refreshTokenExpiresAt: new Date(now + 40 * DAY),
      })?.getTime(),
    ).toBe(now + 30 * DAY);
    expect(
      keepAliveDueAt({ lastRefreshAt: last, idleSeconds: null, refreshTokenExpiresAt: null }),
    ).toBeNull();
  });

  it('refreshes ahead what was used since it was written, keeps alive what is idle, drops what cannot be refreshed', () => {
    const keepAlive = {
      lastRefreshAt: new Date(now - 80 * DAY),
      idleSeconds: 90 * 86_400,
      refreshTokenExpiresAt: null,
    };
    const row = { status: 'active', hasRefreshToken: true, usedSinceWritten: true };
    expect(decide(row, keepAlive, now, 15_000)).toEqual({ action: 'refresh', reason: 'in-use' });
    expect(decide({ ...row, usedSinceWritten: false }, keepAlive, now, 15_000)).toEqual({
      action: 'refresh',
      reason: 'keep-alive',
    });
    const recent = { ...keepAlive, lastRefreshAt: new Date(now - DAY) };
    expect(decide({ ...row, usedSinceWritten: false }, recent, now, 15_000)).toEqual({
      action: 'later',
      at: new Date(now - DAY + 67.5 * DAY),
    });
    expect(
      decide({ ...row, usedSinceWritten: false }, { ...recent, idleSeconds: null }, now, 15_000),
    ).toEqual({ action: 'drop' });
    expect(decide({ ...row, status: 'expired' }, keepAlive, now, 15_000)).toEqual({ action: 'drop' });
    expect(decide({ ...row, hasRefreshToken: false }, keepAlive, now, 15_000)).toEqual({ action: 'drop' });
  });

  it('retries a failed refresh after half of how overdue it is, between 30 s and an hour', () => {
    expect(retryAt(new Date(now), now).getTime()).toBe(now + 30_000);
    expect(retryAt(new Date(now - 600_000), now).getTime()).toBe(now + 300_000);
    expect(retryAt(new Date(now - 10 * 3_600_000), now).getTime()).toBe(now + 3_600_000);
  });
});
