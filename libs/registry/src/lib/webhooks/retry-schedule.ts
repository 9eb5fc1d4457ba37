/**
 * When to try a failed delivery again: exponential backoff from `baseMs` (doubling, capped at 4 h
 * between attempts) for as long as the delivery is younger than `windowMs` (a day by default), with
 * up to 10 % jitter so a receiver coming back is not hit by every retry at once. Null: give up.
 */
export function nextAttemptAt(
  createdAt: Date,
  attemptsMade: number,
  baseMs: number,
  windowMs: number,
  now = Date.now(),
  random = Math.random,
): Date | null {
  const delay = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), 4 * 3_600_000);
  const at = now + delay + delay * 0.1 * random();
  if (at > createdAt.getTime() + windowMs) {
    // One last attempt at the window's end, unless that moment has passed.
    const last = createdAt.getTime() + windowMs;
    return last > now + 1_000 ? new Date(last) : null;
  }
  return new Date(at);
}
