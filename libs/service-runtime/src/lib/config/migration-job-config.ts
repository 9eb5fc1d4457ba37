import { z } from 'zod';
import { ConfigError } from './service-config';

/** What a `MIGRATIONS=only` run needs: the database (on a role that may change the schema) and logging. */
export interface MigrationJobConfig {
  databaseUrl: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/**
 * The settings of a migration-only run, or null when `MIGRATIONS` is not `only`. Such a run (the
 * Kubernetes migration Job) applies the schema migrations and exits: it needs DATABASE_URL and
 * nothing else, so the Job holds no Redis, bus or encryption secret.
 */
export function loadMigrationJobConfig(env: Record<string, string | undefined>): MigrationJobConfig | null {
  if (env['MIGRATIONS'] !== 'only') return null;
  const parsed = z
    .object({
      DATABASE_URL: z
        .string()
        .refine((v) => URL.canParse(v) && ['postgres:', 'postgresql:'].includes(new URL(v).protocol), {
          message: 'must be a URL starting with postgres:// or postgresql://',
        }),
      LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '?');
        return env[name] === undefined || env[name] === ''
          ? `${name}: required when MIGRATIONS=only`
          : `${name}: ${issue.message}`;
      }),
    );
  }
  return { databaseUrl: parsed.data.DATABASE_URL, logLevel: parsed.data.LOG_LEVEL };
}
