import type { Command } from './command';

/** Adds up per-key counts from several domains. */
function merge(...counts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of counts) for (const [key, n] of Object.entries(c)) total[key] = (total[key] ?? 0) + n;
  return Object.fromEntries(Object.entries(total).sort(([a], [b]) => a.localeCompare(b)));
}

export const keyRotationCommand: Command = {
  name: 'key-rotation',
  summary: 'show the latest encryption-key rotation jobs and how many values each key still wraps',
  usage: '(prints JSON)',
  details:
    'The worker starts a rotation job when ENCRYPTION_ACTIVE_KEY_ID names a new key. Once an old key\n' +
    'wraps nothing (valuesByKey), it can be removed from ENCRYPTION_KEYS.',
  options: {},
  async run(ctx, _values, out) {
    const [secrets, tokens, signing, jobs] = await Promise.all([
      (await ctx.secureConfigs()).valuesByKey(),
      (await ctx.authorizations()).valuesByKey(),
      (await ctx.signingKeys()).valuesByKey(),
      (await ctx.jobs()).latestSystemJobs('ROTATE_KEYS', 5),
    ]);
    out.print(
      JSON.stringify(
        {
          valuesByKey: merge(secrets, tokens, signing),
          jobs: jobs.map((j) => ({
            id: j.id,
            status: j.status,
            ...Object.fromEntries(j.details.map((d) => [d.name, d.value])),
            error: j.error ?? undefined,
            createdAt: j.createdAt,
            finishedAt: j.finishedAt ?? undefined,
          })),
        },
        null,
        2,
      ),
    );
  },
};
