import { PROVIDER_TYPES, SUBJECT_MODES, TokenGrant, newTokenGrantSchema } from '@broker/contracts';
import { TokenGrantError } from '@broker/identity';
import {
  AdminFailure,
  Command,
  ID_FLAG,
  ORG_FLAG,
  UsageError,
  commaList,
  optional,
  required,
} from './command';
import { existingClient } from './clients.commands';
import { existingOrg } from './orgs.commands';
import { printListing, table } from './output';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `--providers '*'` or ids and types, comma-separated (a UUID is an id, anything else a type). */
function providersOf(value: string): TokenGrant['providers'] {
  if (value === '*' || value === 'all') return '*';
  const items = commaList(value);
  const ids = items.filter((i) => UUID.test(i));
  const types = items.filter((i) => !UUID.test(i));
  const unknown = types.filter((t) => !(PROVIDER_TYPES as readonly string[]).includes(t));
  if (unknown.length)
    throw new UsageError(
      `--providers: '${unknown.join(', ')}' is neither a provider id nor a type (${PROVIDER_TYPES.join(', ')})`,
    );
  if (!ids.length && !types.length) throw new UsageError("--providers needs provider ids or types, or '*'");
  return { ids, types: types as (typeof PROVIDER_TYPES)[number][] };
}

/** `--subjects self|org|users:alice,bob`. */
function subjectsOf(value: string): TokenGrant['subjects'] {
  const [mode, users] = value.split(':', 2);
  if (!(SUBJECT_MODES as readonly string[]).includes(mode))
    throw new UsageError(`--subjects must be self, org or users:SUB,SUB,... (not '${value}')`);
  if (mode === 'users' && !commaList(users).length)
    throw new UsageError('--subjects users: needs at least one user, e.g. users:alice,bob');
  if (mode !== 'users' && users !== undefined) throw new UsageError(`--subjects ${mode} takes no user list`);
  return { mode: mode as TokenGrant['subjects']['mode'], users: commaList(users) };
}

function describeGrant(g: TokenGrant): string[] {
  const providers = g.providers === '*' ? '*' : [...g.providers.types, ...g.providers.ids].join(',');
  const subjects = g.subjects.mode === 'users' ? `users:${g.subjects.users.join(',')}` : g.subjects.mode;
  return [
    g.id,
    g.clientId,
    providers,
    subjects,
    g.maxScopes ? g.maxScopes.join(',') : 'any',
    g.maxLifetimeSeconds === null ? 'any' : `${g.maxLifetimeSeconds}s`,
    g.description || '-',
  ];
}

export const tokenGrantCommands: Command[] = [
  {
    name: 'grant-tokens',
    summary:
      'grant a client provider tokens (its consumer policy); a client is served nothing it is not granted',
    usage:
      "--id CLIENT_ID --providers '*'|ID|TYPE,... --subjects self|org|users:SUB,... [--max-scopes a,b,...] [--max-lifetime SECONDS] [--description TEXT]\n" +
      `  --providers     '*' (every provider of the org), or provider ids and types (${PROVIDER_TYPES.join(', ')})\n` +
      '  --subjects      self (only the user the caller acts for), org (every user of the org), users:alice,bob\n' +
      '  --max-scopes    the provider scopes a served token may carry at most (narrowed where the provider can, refused otherwise)\n' +
      '  --max-lifetime  how long a served token may still live, at most, in seconds',
    details:
      'Grants add up: a token is served when one grant covers its provider and its user. A change applies on every token-broker within 2 s.',
    options: {
      ...ID_FLAG,
      providers: { type: 'string' },
      subjects: { type: 'string' },
      'max-scopes': { type: 'string' },
      'max-lifetime': { type: 'string' },
      description: { type: 'string' },
    },
    async run(ctx, values, out) {
      const client = await existingClient(ctx, required(values, 'id'));
      const lifetime = optional(values, 'max-lifetime');
      if (lifetime !== undefined && !/^\d+$/.test(lifetime))
        throw new UsageError('--max-lifetime must be a whole number of seconds');
      const parsed = newTokenGrantSchema.safeParse({
        providers: providersOf(required(values, 'providers')),
        subjects: subjectsOf(required(values, 'subjects')),
        maxScopes:
          optional(values, 'max-scopes') === undefined ? null : commaList(optional(values, 'max-scopes')),
        maxLifetimeSeconds: lifetime === undefined ? null : Number(lifetime),
        description: optional(values, 'description') ?? '',
      });
      if (!parsed.success)
        throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      let made: TokenGrant;
      try {
        made = await (await ctx.tokenGrants()).create(client.orgId, client.id, parsed.data);
      } catch (err) {
        if (err instanceof TokenGrantError) throw new UsageError(err.message);
        throw err;
      }
      if (out.json) return out.print(JSON.stringify(made, null, 2));
      out.print(`granted client '${client.id}': grant ${made.id}`);
    },
  },
  {
    name: 'list-token-grants',
    summary: "list an org's consumer policies (or one client's)",
    usage: '--org ID [--client CLIENT_ID] [--json]',
    options: { ...ORG_FLAG, client: { type: 'string' } },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      await existingOrg(ctx, orgId);
      printListing(
        out,
        await (await ctx.tokenGrants()).list(orgId, optional(values, 'client')),
        ['GRANT', 'CLIENT', 'PROVIDERS', 'SUBJECTS', 'MAX_SCOPES', 'MAX_LIFETIME', 'DESCRIPTION'],
        describeGrant,
      );
    },
  },
  {
    name: 'withdraw-token-grant',
    summary: 'withdraw one grant of a consumer policy (applies on every token-broker within 2 s)',
    usage: '--org ID --grant GRANT_ID',
    options: { ...ORG_FLAG, grant: { type: 'string' } },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      const id = required(values, 'grant');
      if (!(await (await ctx.tokenGrants()).remove(orgId, id)))
        throw new AdminFailure(`grant '${id}' does not exist in org '${orgId}'`);
      if (out.json) return out.print(JSON.stringify({ grant: id, withdrawn: true }));
      out.print(`withdrew grant ${id}`);
    },
  },
  {
    name: 'ledger',
    summary: 'who was served provider tokens: by user, consumer, authorization or provider, since a time',
    usage:
      '--org ID [--subject SUB] [--consumer CLIENT_ID] [--authorization ID] [--provider ID] [--since ISO-TIME] [--limit N] [--json]',
    details:
      "Each row: the token's keyed fingerprint (never the token), who was served it, for whom, how, first and last time, how often.",
    options: {
      ...ORG_FLAG,
      subject: { type: 'string' },
      consumer: { type: 'string' },
      authorization: { type: 'string' },
      provider: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
    },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      const since = optional(values, 'since');
      if (since !== undefined && Number.isNaN(Date.parse(since)))
        throw new UsageError('--since must be a date and time, e.g. 2025-01-31T00:00:00Z');
      const limit = optional(values, 'limit') ?? '100';
      if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000)
        throw new UsageError('--limit must be 1 to 1000');
      const page = await (
        await ctx.ledger()
      ).search(orgId, {
        subject: optional(values, 'subject'),
        consumer: optional(values, 'consumer'),
        authorizationId: optional(values, 'authorization'),
        providerId: optional(values, 'provider'),
        since: since === undefined ? undefined : new Date(since).toISOString(),
        limit: Number(limit),
      });
      if (out.json) return out.print(JSON.stringify(page, null, 2));
      out.print(
        table(
          [
            'LAST_SERVED',
            'CONSUMER',
            'SUBJECT',
            'AUTHORIZATION',
            'PATH',
            'COUNT',
            'ATTENUATED',
            'FINGERPRINT',
          ],
          page.items.map((e) => [
            e.lastServedAt,
            e.consumer,
            e.subject,
            e.authorizationId,
            e.path,
            String(e.serveCount),
            e.attenuated ? 'yes' : 'no',
            e.tokenFingerprint,
          ]),
        ),
      );
    },
  },
];
