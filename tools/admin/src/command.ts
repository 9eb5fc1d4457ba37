import type { ParseArgsConfig } from 'node:util';
import type { AdminContext } from './admin-context';
import { status } from './output';

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

/** The items of a comma-separated flag, trimmed, without empty ones (none for an absent flag). */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A comma-separated list whose items must all be `allowed`. */
export function listOf(
  value: string | undefined,
  allowed: readonly string[],
  what: string,
): string[] | undefined {
  if (value === undefined) return undefined;
  const items = commaList(value);
  const bad = items.filter((i) => !allowed.includes(i));
  if (bad.length) throw new UsageError(`unknown ${what}: ${bad.join(', ')} (known: ${allowed.join(', ')})`);
  if (!items.length) throw new UsageError(`give at least one ${what}`);
  return items;
}

/** A client, org or user as disable-* and enable-* see it. */
export interface SwitchableAccount {
  /** How messages name it, e.g. `client 'abc'`. */
  label: string;
  disabled: boolean;
  /** The failure when it vanished between reading and changing it. */
  missing: string;
  /** Disables or enables it; false when it no longer exists. */
  set(disabled: boolean): Promise<boolean>;
}

/** What a disable-X / enable-X pair says and does, for one kind of account X. */
export interface SwitchCommands {
  noun: string;
  usage: string;
  options: Options;
  /** The summary of each command, and what the result line says after `disabled <label>` / `enabled <label>`. */
  disable: { summary: string; effect: string };
  enable: { summary: string; effect: string };
  /** The account the flags name, or a failure saying it does not exist. */
  find(ctx: AdminContext, values: Values): Promise<SwitchableAccount>;
}

/**
 * The disable-X and enable-X commands: a note when the account already is in that state, a
 * failure when it vanished meanwhile, else the change and a line saying what it means.
 */
export function switchCommands(spec: SwitchCommands): Command[] {
  const run =
    (disabled: boolean): Command['run'] =>
    async (ctx, values, out) => {
      const account = await spec.find(ctx, values);
      if (account.disabled === disabled) return out.print(`${account.label} is already ${status(disabled)}`);
      if (!(await account.set(disabled))) throw new AdminFailure(account.missing);
      const said = disabled ? spec.disable : spec.enable;
      out.print(`${disabled ? 'disabled' : 'enabled'} ${account.label}${said.effect}`);
    };
  const command = (disabled: boolean): Command => ({
    name: `${disabled ? 'disable' : 'enable'}-${spec.noun}`,
    summary: (disabled ? spec.disable : spec.enable).summary,
    usage: spec.usage,
    options: spec.options,
    run: run(disabled),
  });
  return [command(true), command(false)];
}

/** Destructive commands need --yes. */
export function confirmed(values: Values, what: string): void {
  if (values['yes'] !== true) throw new UsageError(`${what}, which cannot be undone: add --yes to confirm`);
}

export const ID_FLAG = { id: { type: 'string' } } as const;
export const ORG_FLAG = { org: { type: 'string' } } as const;
export const YES_FLAG = { yes: { type: 'boolean' } } as const;
