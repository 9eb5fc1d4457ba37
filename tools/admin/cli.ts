// npm run admin -- <command> [options]: creates orgs, OAuth clients and users of the broker.
// Talks to the identity schema directly (like a migration would), with DATABASE_URL and
// SECRET_PEPPER from the environment or, on the local default, from .data/ (while `npm start` runs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { GRANT_TYPES, GrantType, SCOPES } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { ClientsService, IDENTITY_SCHEMA, UsersService } from '@broker/identity';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { WEBHOOK_COMMANDS, WEBHOOK_USAGE, webhookCommand } from './webhooks';

const USAGE = `usage: npm run admin -- <command> [options]
  create-org    --id ID [--name NAME]
  create-client --org ID --name NAME [--scopes a,b,...] [--grants client_credentials,...] [--redirect-uri URI]...
                [--allow-user-delegation]   (needed for tokens:delegate on an authorization_code client)
                prints the new client's id and secret (the secret is shown only this once)
  create-user   --org ID --sub SUB [--email E] [--scopes a,b,...] [--given-name G] [--family-name F] [--zoneinfo TZ]
                invites a person: they may sign in (matched by --sub or their verified --email) with
                their client's scopes ∩ --scopes (none by default)
  key-rotation  shows the latest encryption-key rotation jobs (the worker starts one when
                ENCRYPTION_ACTIVE_KEY_ID names a new key) and how many values each key still wraps
${WEBHOOK_USAGE}
scopes: ${SCOPES.join(', ')}   grants: ${GRANT_TYPES.join(', ')}`;

class UsageError extends Error {}

function localDefaults(): { databaseUrl?: string; pepper?: string } {
  const data = join(__dirname, '..', '..', '.data');
  try {
    const state = JSON.parse(readFileSync(join(data, 'state.json'), 'utf8')) as { postgresPort?: number };
    const secrets = JSON.parse(readFileSync(join(data, 'secrets.json'), 'utf8')) as { SECRET_PEPPER?: string };
    return {
      databaseUrl: state.postgresPort ? `postgres://postgres@127.0.0.1:${state.postgresPort}/broker` : undefined,
      pepper: secrets.SECRET_PEPPER,
    };
  } catch {
    return {};
  }
}

function list(value: string | undefined, allowed: readonly string[], what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i));
  if (bad.length) throw new UsageError(`unknown ${what}: ${bad.join(', ')} (known: ${allowed.join(', ')})`);
  return items;
}

function need(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      id: { type: 'string' },
      name: { type: 'string' },
      org: { type: 'string' },
      scopes: { type: 'string' },
      grants: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      sub: { type: 'string' },
      email: { type: 'string' },
      'given-name': { type: 'string' },
      'family-name': { type: 'string' },
      zoneinfo: { type: 'string' },
      'allow-user-delegation': { type: 'boolean' },
      url: { type: 'string' },
      events: { type: 'string' },
    },
    strict: true,
  });
  const commands: string[] = ['create-org', 'create-client', 'create-user', 'key-rotation', ...WEBHOOK_COMMANDS];
  if (!command || !commands.includes(command)) throw new UsageError(`unknown command '${command ?? ''}'`);

  const local = localDefaults();
  const databaseUrl = process.env['DATABASE_URL'] ?? local.databaseUrl;
  const pepper = process.env['SECRET_PEPPER'] ?? local.pepper;
  if (!databaseUrl) throw new UsageError('DATABASE_URL is not set (and no local default in .data/: run `npm start` first)');
  if (command === 'key-rotation') return keyRotation(databaseUrl);
  if ((WEBHOOK_COMMANDS as readonly string[]).includes(command)) return webhookCommand(command, { org: values.org, url: values.url, events: values.events, name: values.name, id: values.id }, databaseUrl, !process.env['DATABASE_URL']);
  const ds = await new DataSource(domainDataSourceOptions(databaseUrl, IDENTITY_SCHEMA, 'admin-cli', 2)).initialize();
  try {
    await migrateDomainSchema(ds, IDENTITY_SCHEMA.schema);
    if (command === 'create-org') {
      const id = need(values.id, '--id');
      await new ClientsService(ds, new KeyedHasher(Buffer.alloc(32))).ensureOrg(id, values.name ?? id);
      console.log(`org '${id}' exists`);
    } else if (command === 'create-client') {
      if (!pepper) throw new UsageError('SECRET_PEPPER is not set (it must be the one the token-broker uses)');
      const clients = new ClientsService(ds, new KeyedHasher(Buffer.from(pepper, 'base64')));
      const created = await clients.createClient({
        orgId: need(values.org, '--org'),
        name: need(values.name, '--name'),
        scopes: list(values.scopes, SCOPES, 'scope') ?? ['tokens:read'],
        grantTypes: (list(values.grants, GRANT_TYPES, 'grant') ?? ['client_credentials']) as GrantType[],
        redirectUris: values['redirect-uri'] ?? [],
        allowUserDelegation: values['allow-user-delegation'] === true,
      });
      console.log(JSON.stringify({ client_id: created.clientId, client_secret: created.clientSecret }, null, 2));
      console.error('store the secret now: it is not kept and cannot be shown again');
    } else {
      const user = await new UsersService(ds).upsert(
        need(values.org, '--org'),
        {
          sub: need(values.sub, '--sub'),
          email: values.email,
          givenName: values['given-name'],
          familyName: values['family-name'],
          zoneinfo: values.zoneinfo,
        },
        list(values.scopes, SCOPES, 'scope'),
      );
      console.log(`user '${user.sub}' of org '${user.orgId}' exists (registered ${user.registeredAt.toISOString()})`);
    }
  } finally {
    await ds.destroy();
  }
}

/** Rotation jobs are system jobs (no org): read them, and the keys in use, straight from the tables. */
async function keyRotation(databaseUrl: string): Promise<void> {
  const ds = await new DataSource({ type: 'postgres', url: databaseUrl, applicationName: 'admin-cli', extra: { max: 1 } }).initialize();
  try {
    const jobs = (await ds.query(
      `SELECT id, status, details, error, created_at, finished_at FROM registry.jobs WHERE type = 'ROTATE_KEYS' ORDER BY created_at DESC LIMIT 5`,
    )) as { id: string; status: string; details: { name: string; value: string }[]; error: string | null; created_at: Date; finished_at: Date | null }[];
    const keys = (await ds.query(
      `SELECT key_id, count(*)::int AS n FROM (SELECT key_id FROM registry.secure_configs UNION ALL SELECT key_id FROM tokens.credentials
          UNION ALL SELECT split_part(private_jwk_enc, '.', 2) FROM identity.signing_keys) k GROUP BY key_id ORDER BY key_id`,
    )) as { key_id: string; n: number }[];
    console.log(JSON.stringify({
      valuesByKey: Object.fromEntries(keys.map((k) => [k.key_id, k.n])),
      jobs: jobs.map((j) => ({ id: j.id, status: j.status, ...Object.fromEntries(j.details.map((d) => [d.name, d.value])), error: j.error ?? undefined, createdAt: j.created_at, finishedAt: j.finished_at ?? undefined })),
    }, null, 2));
  } finally {
    await ds.destroy();
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    console.error(err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? `${message}\n\n${USAGE}` : `admin: ${message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
