/**
 * When a token set is looked at next. Pure functions: the SQL of the schedule mirrors
 * `aheadMarginMs` (a fifth of the lifetime, 10 s to 10 min), everything else is decided here.
 */

/** How long before expiry a token of this lifetime is refreshed ahead: a fifth of it, 10 s to 10 min. */
export function aheadMarginMs(lifetimeMs: number): number {
  return Math.min(Math.max(lifetimeMs * 0.2, 10_000), 600_000);
}

/**
 * When a token written at `writtenAt` and expiring at `expiresAt` is due for its refresh ahead:
 * the margin before expiry, minus up to 10 % of it at random so that tokens written together
 * (a seeding, a wave) spread out again instead of coming due in the same second forever.
 */
export function aheadDueAt(expiresAt: Date, writtenAt: Date, random = Math.random): Date {
  const margin = aheadMarginMs(expiresAt.getTime() - writtenAt.getTime());
  return new Date(expiresAt.getTime() - margin - margin * 0.1 * random());
}

/** Facts about an authorization's refresh token that decide how long it may stay unused. */
export interface KeepAliveFacts {
  /** When the refresh token was last used or issued (the last refresh, else the link). */
  lastRefreshAt: Date;
  /** The provider's idle window in seconds (null: unused refresh tokens do not expire there). */
  idleSeconds: number | null;
  /** The refresh token's own expiry, where the provider states one (GitHub Apps). */
  refreshTokenExpiresAt: Date | null;
}

/**
 * When an idle authorization must be refreshed to keep its grant alive, or null when it never needs
 * to be (it is then refreshed on its next use). A quarter of the window is left as a margin, so a
 * provider outage or a paused worker has weeks to be over before a grant is lost.
 */
export function keepAliveDueAt(f: KeepAliveFacts): Date | null {
  const candidates: number[] = [];
  const from = f.lastRefreshAt.getTime();
  if (f.idleSeconds !== null) candidates.push(from + f.idleSeconds * 1000 * 0.75);
  if (f.refreshTokenExpiresAt) {
    const end = f.refreshTokenExpiresAt.getTime();
    candidates.push(end - Math.max(0, end - from) * 0.25);
  }
  return candidates.length ? new Date(Math.min(...candidates)) : null;
}

/** A due row as the schedule claimed it. */
export interface DueRow {
  status: string;
  hasRefreshToken: boolean;
  /** A caller was served the current token set since it was written. */
  usedSinceWritten: boolean;
}

/** What to do with a claimed row: refresh it now, move it to a later time, or take it off the schedule. */
export type DueDecision =
  | { action: 'refresh'; reason: 'in-use' | 'keep-alive' }
  | { action: 'later'; at: Date }
  | { action: 'drop' };

/**
 * The rule: a token set that was served to a caller since it was written is in use and is
 * refreshed ahead; one nobody asked for is left to expire and only its refresh token is kept
 * alive, at the provider's idle window (its first caller then waits for one refresh, single-flight).
 */
export function decide(
  row: DueRow,
  keepAlive: KeepAliveFacts,
  now: number,
  lookaheadMs: number,
): DueDecision {
  if (row.status !== 'active' || !row.hasRefreshToken) return { action: 'drop' };
  if (row.usedSinceWritten) return { action: 'refresh', reason: 'in-use' };
  const at = keepAliveDueAt(keepAlive);
  if (!at) return { action: 'drop' };
  if (at.getTime() <= now + lookaheadMs) return { action: 'refresh', reason: 'keep-alive' };
  return { action: 'later', at };
}

/**
 * After a transient failure, when to try again: half as long as the row is already overdue
 * (30 s at least, an hour at most), so a provider that is down for hours is asked less and less often.
 */
export function retryAt(dueAt: Date, now: number): Date {
  const overdue = Math.max(0, now - dueAt.getTime());
  return new Date(now + Math.min(Math.max(overdue / 2, 30_000), 3_600_000));
}

/** When to refresh ahead: a fifth of the lifetime before expiry (10 s to 10 min), minus up to 10 % jitter. */
export function refreshAheadDelayMs(expiresAt: Date, now = Date.now(), random = Math.random): number {
  const lifetime = expiresAt.getTime() - now;
  const margin = aheadMarginMs(lifetime);
  return Math.max(0, lifetime - margin - margin * 0.1 * random());
}

/** How long before expiry a token of this lifetime is refreshed ahead (the same margin as `aheadMarginMs`). */
export function refreshAheadMarginMs(lifetimeMs: number): number {
  return aheadMarginMs(lifetimeMs);
}

/**
 * Whether a token written at `writtenAt` and expiring at `expiresAt` is due for its refresh ahead
 * now (the planned moment, its jitter and 2 s of slack). A refresh job is untrusted data from Redis:
 * it refreshes only what this says is due, so a job forged early does nothing.
 */
export function refreshAheadDue(writtenAt: Date, expiresAt: Date, now = Date.now()): boolean {
  const margin = aheadMarginMs(expiresAt.getTime() - writtenAt.getTime());
  return expiresAt.getTime() - now <= margin * 1.1 + 2_000;
}
