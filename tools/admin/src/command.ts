import type { ParseArgsConfig } from 'node:util';
import type { AdminContext } from './admin-context';

/** Exit codes: 0 done, 1 the operation failed (unknown org, refused, database unreachable), 2 wrong usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Wrong usage: unknown command or flag, a missing or malformed value. Exit 2, with the command's usage. */
export class UsageError extends Error {}

/** The operation could not be done (what and why is the message). Exit 1. */
export class AdminFailure extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** One command of the admin tool. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Flags, one per line, for `<command> --help`. */
  usage: string;
  /** More explanation after the flags (optional). */
  details?: string;
  options: Options;
  run(ctx: AdminContext, values: Values, out: Output): Promise<void>;
}

/** Where commands write: results to stdout, notes to stderr. */
export interface Output {
  json: boolean;
  print(text: string): void;
  note(text: string): void;
}

/** A required string flag, or a usage error naming it. */
export function required(values: Values, flag: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${flag} is required`);
  return value.trim();
}

/** An optional string flag. */
export function optional(values: Values, flag: string): string | undefined {
  const value = values[flag];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A comma-separated list whose items must all be `allowed`. */
export function listOf(
  value: string | undefined,
  allowed: readonly string[],
  what: string,
): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i));
  if (bad.length) throw new UsageError(`unknown ${what}: ${bad.join(', ')} (known: ${allowed.join(', ')})`);
  if (!items.length) throw new UsageError(`give at least one ${what}`);
  return items;
}

/** Destructive commands need --yes. */
export function confirmed(values: Values, what: string): void {
  if (values['yes'] !== true) throw new UsageError(`${what}, which cannot be undone: add --yes to confirm`);
}

export const ID_FLAG = { id: { type: 'string' } } as const;
export const ORG_FLAG = { org: { type: 'string' } } as const;
export const YES_FLAG = { yes: { type: 'boolean' } } as const;
