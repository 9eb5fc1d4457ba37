import { SCOPES } from '@broker/contracts';
import { ClientMetadataSettingsError } from '@broker/identity';
import type { AdminContext } from './admin-context';
import {
  AdminFailure,
  Command,
  ID_FLAG,
  UsageError,
  YES_FLAG,
  commaList,
  confirmed,
  listOf,
  optional,
  required,
  switchCommands,
} from './command';
import { date, details, printListing, status } from './output';

const ORG_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The org, or a failure saying it does not exist. */
export async function existingOrg(ctx: AdminContext, id: string) {
  const org = await (await ctx.orgs()).find(id);
  if (!org) throw new AdminFailure(`org '${id}' does not exist (list them with: npm run admin -- list-orgs)`);
  return org;
}

/** Providers and linked provider accounts of an org (they live in the registry and tokens domains). */
async function providerFacts(
  ctx: AdminContext,
  orgId: string,
): Promise<{ providers: number; linkedAccounts: number }> {
  const providers = await (await ctx.providers()).list(orgId, {});
  const stats = await (await ctx.authorizations()).statsByProvider(orgId);
  return { providers: providers.length, linkedAccounts: stats.reduce((n, s) => n + s.count, 0) };
}

export const orgCommands: Command[] = [
  {
    name: 'create-org',
    summary: 'create an org (a tenant: the seed’s team_id)',
    usage: '--id ID [--name NAME]      ID: letters, digits, _ and - (at most 64)',
    options: { ...ID_FLAG, name: { type: 'string' } },
    async run(ctx, values, out) {
      const id = required(values, 'id');
      if (!ORG_ID.test(id))
        throw new UsageError(`--id must be letters, digits, _ and - (at most 64), not '${id}'`);
      const { org, created } = await (await ctx.orgs()).create(id, optional(values, 'name') ?? id);
      if (out.json) return out.print(JSON.stringify({ id: org.id, name: org.name, created }));
      out.print(
        created ? `created org '${org.id}' (${org.name})` : `org '${org.id}' already exists (unchanged)`,
      );
    },
  },
  {
    name: 'list-orgs',
    summary: 'list the orgs with their numbers of clients and users',
    usage: '[--json]',
    options: {},
    async run(ctx, _values, out) {
      printListing(
        out,
        await (await ctx.orgs()).list(),
        ['ID', 'NAME', 'STATUS', 'CLIENTS', 'USERS', 'CREATED'],
        (o) => [o.id, o.name, status(o.disabled), String(o.clients), String(o.users), date(o.createdAt)],
      );
    },
  },
  {
    name: 'show-org',
    summary: 'show an org: status, clients, users, providers, linked accounts',
    usage: '--id ID [--json]',
    options: ID_FLAG,
    async run(ctx, values, out) {
      const id = required(values, 'id');
      const org = await existingOrg(ctx, id);
      const summary = (await (await ctx.orgs()).list()).find((o) => o.id === id);
      if (!summary) throw new AdminFailure(`org '${id}' does not exist`);
      const facts = await providerFacts(ctx, id);
      const policy = {
        signInMode: org.signInMode,
        allowedEmailDomains: org.allowedEmailDomains,
        requireVerifiedEmail: org.requireVerifiedEmail,
        defaultUserScopes: org.defaultUserScopes,
        clientMetadataDocuments: {
          enabled: org.clientMetadataDocuments,
          allowedClients: org.clientMetadataAllowed,
          maxScopes: org.clientMetadataMaxScopes,
        },
      };
      if (out.json) return out.print(JSON.stringify({ ...summary, ...policy, ...facts }, null, 2));
      out.print(
        details([
          ['id', summary.id],
          ['name', summary.name],
          ['status', status(summary.disabled)],
          ['created', date(summary.createdAt)],
          ['clients', summary.clients],
          ['users', summary.users],
          [
            'sign-in',
            org.signInMode === 'domains'
              ? `invited users, and verified addresses of ${org.allowedEmailDomains.join(', ') || '(no domain)'}`
              : 'invited users only',
          ],
          ['verified e-mail required', org.requireVerifiedEmail ? 'yes' : 'no'],
          ['default user scopes', org.defaultUserScopes.join(', ') || '-'],
          [
            'clients identified by URL',
            org.clientMetadataDocuments
              ? `accepted (${org.clientMetadataAllowed.join(', ') || 'any URL'}), scopes at most: ${org.clientMetadataMaxScopes.join(', ')}`
              : 'not accepted',
          ],
          ['providers', facts.providers],
          ['linked provider accounts', facts.linkedAccounts],
        ]),
      );
    },
  },
  {
    name: 'set-sign-in-policy',
    summary: 'set who may sign in to an org: invited users only (the default), or also e-mail domains',
    usage:
      '--id ID --mode invited|domains [--domains a.com,b.com] [--default-scopes a,b] [--require-verified-email yes|no]\n' +
      '  invited  only users created beforehand (create-user), matched by subject or verified e-mail address\n' +
      '  domains  also anyone whose verified address is in one of --domains, as a new user with --default-scopes',
    options: {
      ...ID_FLAG,
      mode: { type: 'string' },
      domains: { type: 'string' },
      'default-scopes': { type: 'string' },
      'require-verified-email': { type: 'string' },
    },
    async run(ctx, values, out) {
      const id = required(values, 'id');
      const mode = required(values, 'mode');
      if (mode !== 'invited' && mode !== 'domains')
        throw new UsageError(`--mode must be invited or domains, not '${mode}'`);
      const domains = commaList(optional(values, 'domains')).map((d) => d.toLowerCase());
      if (mode === 'domains' && !domains.length) throw new UsageError('--mode domains needs --domains');
      const bad = domains.filter((d) => !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(d));
      if (bad.length) throw new UsageError(`not a domain name: ${bad.join(', ')}`);
      const verified = optional(values, 'require-verified-email') ?? 'yes';
      if (verified !== 'yes' && verified !== 'no')
        throw new UsageError(`--require-verified-email must be yes or no, not '${verified}'`);
      const defaultUserScopes = listOf(optional(values, 'default-scopes'), SCOPES, 'scope') ?? [];
      await existingOrg(ctx, id);
      const settings = {
        mode,
        allowedEmailDomains: domains,
        requireVerifiedEmail: verified === 'yes',
        defaultUserScopes,
      } as const;
      if (!(await (await ctx.signInPolicy()).setPolicy(id, settings)))
        throw new AdminFailure(`org '${id}' does not exist`);
      if (out.json) return out.print(JSON.stringify({ org: id, ...settings }));
      out.print(
        mode === 'invited'
          ? `org '${id}': only invited users may sign in`
          : `org '${id}': invited users and verified addresses of ${domains.join(', ')} may sign in (new users get: ${defaultUserScopes.join(', ') || 'no scope'})`,
      );
    },
  },
  {
    name: 'set-client-metadata-documents',
    summary:
      'accept (or refuse) OAuth clients identified by URL (client ID metadata documents, e.g. MCP clients) for an org',
    usage:
      '--id ID --enabled yes|no [--allow host,https://prefix/,...] [--scopes a,b]\n' +
      '  --allow   host names (exact) or URL prefixes ending in /; none: any URL the egress guard allows\n' +
      '  --scopes  the most such a client may get (required with --enabled yes)',
    options: {
      ...ID_FLAG,
      enabled: { type: 'string' },
      allow: { type: 'string' },
      scopes: { type: 'string' },
    },
    async run(ctx, values, out) {
      const id = required(values, 'id');
      const enabled = required(values, 'enabled');
      if (enabled !== 'yes' && enabled !== 'no')
        throw new UsageError(`--enabled must be yes or no, not '${enabled}'`);
      const allowedClients = commaList(optional(values, 'allow'));
      const maxScopes = listOf(optional(values, 'scopes'), SCOPES, 'scope') ?? [];
      await existingOrg(ctx, id);
      let saved;
      try {
        saved = await (
          await ctx.clientMetadataSettings()
        ).set(id, { enabled: enabled === 'yes', allowedClients, maxScopes });
      } catch (err) {
        if (err instanceof ClientMetadataSettingsError) throw new UsageError(err.message);
        throw err;
      }
      if (!saved) throw new AdminFailure(`org '${id}' does not exist`);
      if (out.json) return out.print(JSON.stringify({ org: id, ...saved }));
      out.print(
        saved.enabled
          ? `org '${id}': clients identified by URL accepted (${saved.allowedClients.join(', ') || 'any URL'}), scopes at most: ${saved.maxScopes.join(', ')}`
          : `org '${id}': clients identified by URL are not accepted`,
      );
    },
  },
  ...switchCommands({
    noun: 'org',
    usage: '--id ID',
    options: ID_FLAG,
    disable: {
      summary: 'disable an org: none of its clients can get tokens until it is enabled again',
      effect:
        ': its clients can no longer authenticate, and every token they hold or issued is refused within seconds',
    },
    enable: {
      summary: 'enable a disabled org again',
      effect: ' (tokens revoked while it was disabled stay revoked)',
    },
    async find(ctx, values) {
      const id = required(values, 'id');
      const org = await existingOrg(ctx, id);
      return {
        label: `org '${id}'`,
        disabled: org.disabled,
        missing: `org '${id}' does not exist`,
        set: async (disabled) => {
          const orgs = await ctx.orgs();
          return disabled ? orgs.disable(id) : orgs.enable(id);
        },
      };
    },
  }),
  {
    name: 'revoke-org',
    summary:
      'revoke every token the org’s clients hold or issued (refresh tokens included); the org stays enabled',
    usage: '--id ID',
    details: 'Access tokens are refused on every gateway and service within seconds; people sign in again.',
    options: ID_FLAG,
    async run(ctx, values, out) {
      const id = required(values, 'id');
      await existingOrg(ctx, id);
      const clients = await (await ctx.orgs()).revokeAll(id);
      if (clients === null) throw new AdminFailure(`org '${id}' does not exist`);
      if (out.json) return out.print(JSON.stringify({ org: id, revokedClients: clients }));
      out.print(`revoked every token of org '${id}' (${clients} client(s), with their refresh tokens)`);
    },
  },
  {
    name: 'delete-org',
    summary: 'delete an org with its clients and users (it must have no providers left)',
    usage: '--id ID --yes',
    details:
      'Providers are deleted through the API first (DELETE /api/v2/externalOAuth/providers/{id}/), which\n' +
      'revokes their users’ grants at the provider; the org keeps them until then.',
    options: { ...ID_FLAG, ...YES_FLAG },
    async run(ctx, values, out) {
      const id = required(values, 'id');
      confirmed(values, `delete-org removes org '${id}' with its clients and users`);
      await existingOrg(ctx, id);
      const facts = await providerFacts(ctx, id);
      if (facts.providers > 0 || facts.linkedAccounts > 0) {
        throw new AdminFailure(
          `org '${id}' still has ${facts.providers} provider(s) and ${facts.linkedAccounts} linked provider account(s): delete its providers first ` +
            `(DELETE /api/v2/externalOAuth/providers/{id}/ revokes the grants at each provider), then run delete-org again`,
        );
      }
      const deleted = await (await ctx.orgs()).delete(id);
      if (!deleted) throw new AdminFailure(`org '${id}' does not exist`);
      if (out.json) return out.print(JSON.stringify({ org: id, deleted }));
      out.print(
        `deleted org '${id}' with ${deleted.clients} client(s), ${deleted.users} user(s) and ${deleted.refreshTokens} refresh token(s)`,
      );
    },
  },
];
