// bench:scale's refresh window: lag of every used token set due in it, provider calls, worker CPU
// per refresh, hot acquires meanwhile. Returns the hot authorizations the later phases acquire.
import { percentile } from './stats';
import { HOT, N, ScaleRun, WINDOW_S, acquireLoop, cpuMs, ms, step, worker } from './scale.shared';

export async function refreshWindow(run: ScaleRun): Promise<string[]> {
  const { sys, bus, q, row, counts, mainProvider } = run;
  // Refresh window
  const t0 = Date.now();
  const windowEnd = t0 + WINDOW_S * 1000;
  // Used token sets due in the window (leaving 20 s at its end for the last refreshes to land).
  const dueUsed = await q<{ authorization_id: string; due: Date; refreshed: Date | null }>(
    `SELECT c.authorization_id, c.refresh_due_at AS due, a.last_refreshed_at AS refreshed FROM tokens.credentials c JOIN tokens.authorizations a ON a.id = c.authorization_id
      WHERE a.provider_id = $1 AND a.last_used_at >= c.updated_at AND c.refresh_due_at BETWEEN to_timestamp($2 / 1000.0) AND to_timestamp($3 / 1000.0)`,
    [mainProvider, t0, windowEnd - 20_000],
  );
  const [spread] = await q<{ used: number; due_hour: number; claimed: number }>(
    `SELECT count(*) FILTER (WHERE a.last_used_at IS NOT NULL)::int AS used,
            count(*) FILTER (WHERE a.last_used_at >= c.updated_at AND c.refresh_due_at <= now() + interval '1 hour')::int AS due_hour,
            count(*) FILTER (WHERE a.last_used_at IS NOT NULL AND a.last_used_at < c.updated_at)::int AS claimed
       FROM tokens.credentials c JOIN tokens.authorizations a ON a.id = c.authorization_id WHERE a.provider_id = $1`,
    [mainProvider],
  );
  step(
    `used: ${spread.used}, used and due within the hour: ${spread.due_hour}, used before their current token: ${spread.claimed}`,
  );
  const [{ overdue }] = await q<{ overdue: number }>(
    `SELECT count(*)::int AS overdue FROM tokens.credentials WHERE refresh_due_at < to_timestamp($1 / 1000.0)`,
    [t0],
  );
  const hot = dueUsed.slice(0, HOT).map((r) => r.authorization_id);
  if (hot.length < HOT) {
    const more = await q<{ id: string }>(
      `SELECT id FROM tokens.authorizations WHERE provider_id = $1 AND last_used_at IS NOT NULL LIMIT $2`,
      [mainProvider, HOT - hot.length],
    );
    hot.push(...more.map((m) => m.id));
  }
  step(
    `refresh window: ${WINDOW_S} s, ${dueUsed.length} used token sets due in it, ${overdue} rows overdue at its start (the wave), ${hot.length} hot authorizations acquired meanwhile`,
  );
  const c0 = await counts();
  const workerCpu0 = cpuMs(worker(sys).pid);
  const refreshed0 = await q<{ n: string }>(
    `SELECT coalesce(sum(refresh_succeeded), 0)::bigint AS n FROM tokens.authorizations WHERE provider_id = $1`,
    [mainProvider],
  );
  const during = await acquireLoop(bus, sys.adminToken, hot, () => Date.now() >= windowEnd);
  const c1 = await counts();
  const workerCpu = cpuMs(worker(sys).pid) - workerCpu0;
  const refreshed1 = await q<{ n: string }>(
    `SELECT coalesce(sum(refresh_succeeded), 0)::bigint AS n FROM tokens.authorizations WHERE provider_id = $1`,
    [mainProvider],
  );
  const after = await q<{ authorization_id: string; refreshed: Date | null; n: number }>(
    `SELECT id AS authorization_id, last_refreshed_at AS refreshed, refresh_succeeded AS n FROM tokens.authorizations WHERE id = ANY($1::uuid[])`,
    [dueUsed.map((d) => d.authorization_id)],
  );
  const byId = new Map(after.map((a) => [a.authorization_id, a]));
  const now = Date.now();
  const lags = dueUsed.map((d) => {
    const a = byId.get(d.authorization_id);
    const at = a?.refreshed && a.refreshed.getTime() >= t0 ? a.refreshed.getTime() : now; // not refreshed: late by at least this much
    return Math.max(0, at - d.due.getTime()) / 1000;
  });
  const missed = dueUsed.filter(
    (d) =>
      !(
        byId.get(d.authorization_id)?.refreshed &&
        (byId.get(d.authorization_id)?.refreshed as Date).getTime() >= t0
      ),
  ).length;
  const perUsed = dueUsed.length ? after.reduce((s, a) => s + a.n, 0) / dueUsed.length : NaN;
  const calls = c1.token_refresh - c0.token_refresh;
  const wall = (now - t0) / 1000;
  const [{ idle_refreshed }] = await q<{ idle_refreshed: number }>(
    `SELECT count(*)::int AS idle_refreshed FROM tokens.authorizations WHERE provider_id = $1 AND last_used_at IS NULL AND last_refreshed_at >= to_timestamp($2 / 1000.0)`,
    [mainProvider, t0],
  );
  row(
    'refresh lag, used token sets due in the window',
    `p50 ${percentile(lags, 50)?.toFixed(1)} s, p99 ${percentile(lags, 99)?.toFixed(1)} s, max ${Math.max(0, ...lags).toFixed(1)} s over ${dueUsed.length} (${missed} not refreshed by the end)`,
  );
  row(
    'provider refresh calls',
    `${calls} in ${wall.toFixed(0)} s = ${(calls / wall).toFixed(2)}/s = ${(((calls / wall) * 86_400) / N).toFixed(3)} per authorization per day (rate of this window, wave included)`,
  );
  row(
    'refreshes per used token set due in the window',
    `${perUsed.toFixed(2)} (refresh_succeeded of each, all time)`,
  );
  row(
    'idle authorizations refreshed in the window',
    `${idle_refreshed} (kept alive only at their provider's idle window: 14 days for oauth2)`,
  );
  row(
    'worker CPU per refresh',
    `${calls ? ms(workerCpu / calls) : 'n/a'} (${(workerCpu / 1000).toFixed(1)} s CPU over the window, sweeps and deferrals of idle rows included; ${Number(refreshed1[0].n) - Number(refreshed0[0].n)} refreshes recorded)`,
  );
  row(
    'hot acquires during the window (bus)',
    `${during.lat.length}: p50 ${ms(percentile(during.lat, 50))}, p99 ${ms(percentile(during.lat, 99))}, ${during.waited} waited on the provider (needed a refresh), ${during.errors} errors`,
  );
  return hot;
}
