import { parseArgs } from 'node:util';
import { AdminContext } from './admin-context';
import { clientCommands } from './clients.commands';
import { AdminFailure, Command, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, Values } from './command';
import { keyRotationCommand } from './key-rotation.command';
import { orgCommands } from './orgs.commands';
import { processOutput } from './output';
import { tokenGrantCommands } from './token-grants.commands';
import { userCommands } from './users.commands';
import { webhookCommands } from './webhooks.commands';

const COMMANDS: Command[] = [
  ...orgCommands,
  ...clientCommands,
  ...userCommands,
  ...webhookCommands,
  ...tokenGrantCommands,
  keyRotationCommand,
];
const PROGRAM = 'npm run admin --';

function toolHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `usage: ${PROGRAM} <command> [options]      (in the container image: broker-admin <command> [options])`,
    '',
    'Manages the broker’s orgs, OAuth clients and users through its domain services.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `${PROGRAM} <command> --help   shows a command's options. Most commands take --json for machine-readable output.`,
    '',
    'settings: DATABASE_URL, SECRET_PEPPER and ENCRYPTION_KEYS (the token-broker’s); unset, they are read from the',
    'data folder of `npm start` (BROKER_DATA_DIR, default ./.data) while it runs.',
    'exit codes: 0 done (also "already exists"), 1 failed (e.g. unknown org, database unreachable), 2 wrong usage.',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [
    `usage: ${PROGRAM} ${c.name} ${c.usage}`,
    '',
    `${c.summary}.`,
    ...(c.details ? ['', c.details] : []),
  ].join('\n');
}

/** Runs the tool with `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const out = processOutput(argv.includes('--json'));
  const [name, ...rest] = argv;
  if (name === undefined) {
    out.note(toolHelp());
    return EXIT_USAGE;
  }
  if (name === '--help' || name === '-h' || (name === 'help' && rest.length === 0)) {
    out.print(toolHelp());
    return EXIT_OK;
  }
  const target = name === 'help' ? rest[0] : name;
  const command = COMMANDS.find((c) => c.name === target);
  if (!command) {
    out.note(`admin: unknown command '${target}'\n\n${toolHelp()}`);
    return EXIT_USAGE;
  }
  if (name === 'help' || rest.includes('--help') || rest.includes('-h')) {
    out.print(commandHelp(command));
    return EXIT_OK;
  }

  let values: Values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { ...command.options, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    out.note(`admin: ${(err as Error).message}\n\n${commandHelp(command)}`);
    return EXIT_USAGE;
  }

  let ctx: AdminContext | undefined;
  try {
    ctx = new AdminContext();
    await command.run(ctx, values, out);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof UsageError) {
      out.note(`admin: ${err.message}\n\n${commandHelp(command)}`);
      return EXIT_USAGE;
    }
    out.note(
      `admin: ${err instanceof AdminFailure ? err.message : `${command.name} failed: ${(err as Error).message ?? String(err)}`}`,
    );
    return EXIT_FAILURE;
  } finally {
    await ctx?.close().catch(() => undefined);
  }
}
