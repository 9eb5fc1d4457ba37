import { GRANT_TYPES, GrantType, OPERATOR_SCOPES, SCOPES } from '@broker/contracts';
import { ClientCredentials, ClientPolicyError, OAuthClientEntity } from '@broker/identity';
import type { AdminContext } from './admin-context';
import {
  AdminFailure,
  Command,
  ID_FLAG,
  ORG_FLAG,
  UsageError,
  Values,
  YES_FLAG,
  confirmed,
  listOf,
  optional,
  required,
  switchCommands,
} from './command';
import { existingOrg } from './orgs.commands';
import { date, details, printListing, status } from './output';

/** The client, or a failure saying it does not exist. */
export async function existingClient(ctx: AdminContext, id: string): Promise<OAuthClientEntity> {
  const client = await (await ctx.clients()).find(id);
  if (!client)
    throw new AdminFailure(
      `client '${id}' does not exist (list an org's clients with: npm run admin -- list-clients --org ORG)`,
    );
  return client;
}

function redirectUris(values: Values): string[] {
  const uris = (values['redirect-uri'] as string[] | undefined) ?? [];
  for (const uri of uris) {
    if (!URL.canParse(uri) || !/^https?:$/.test(new URL(uri).protocol))
      throw new UsageError(`--redirect-uri must be an http(s) URL, not '${uri}'`);
  }
  return uris;
}

function view(c: OAuthClientEntity) {
  return {
    clientId: c.id,
    org: c.orgId,
    name: c.name,
    status: status(c.disabled),
    grants: c.grantTypes,
    scopes: c.scopes,
    redirectUris: c.redirectUris,
    allowUserDelegation: c.allowUserDelegation,
    createdAt: c.createdAt,
  };
}

export const clientCommands: Command[] = [
  {
    name: 'create-client',
    summary: 'create an OAuth client of an org; prints its id and secret (shown this once)',
    usage:
      '--org ID --name NAME [--scopes a,b,...] [--grants g,...] [--redirect-uri URI]... [--allow-user-delegation]\n' +
      `  --scopes    default tokens:read; any of ${SCOPES.join(', ')}\n` +
      `              (${OPERATOR_SCOPES.join(', ')}: the queue dashboard, only for clients of the operator org OPERATOR_ORG_ID)\n` +
      `  --grants    default client_credentials; any of ${GRANT_TYPES.join(', ')}\n` +
      '  --redirect-uri  exact redirect URI for authorization_code (repeat for several)\n' +
      '  --allow-user-delegation  people signing in through it may get tokens:delegate (required for that scope with authorization_code)',
    options: {
      ...ORG_FLAG,
      name: { type: 'string' },
      scopes: { type: 'string' },
      grants: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'allow-user-delegation': { type: 'boolean' },
    },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      const name = required(values, 'name');
      const scopes = listOf(optional(values, 'scopes'), [...SCOPES, ...OPERATOR_SCOPES], 'scope') ?? [
        'tokens:read',
      ];
      const operatorScopes = scopes.filter((s) => (OPERATOR_SCOPES as readonly string[]).includes(s));
      // Queues hold every org's jobs: only the operator org's clients may see them.
      if (operatorScopes.length && orgId !== ctx.operatorOrgId)
        throw new UsageError(
          `${operatorScopes.join(', ')}: operator scopes, only for clients of the operator org '${ctx.operatorOrgId}' (OPERATOR_ORG_ID)`,
        );
      const grantTypes = (listOf(optional(values, 'grants'), GRANT_TYPES, 'grant') ?? [
        'client_credentials',
      ]) as GrantType[];
      const uris = redirectUris(values);
      if (grantTypes.includes('authorization_code') && !uris.length)
        throw new UsageError('the authorization_code grant needs at least one --redirect-uri');
      const org = await existingOrg(ctx, orgId);
      let created: ClientCredentials;
      try {
        created = await (
          await ctx.clients()
        ).createClient({
          orgId,
          name,
          scopes,
          grantTypes,
          redirectUris: uris,
          allowUserDelegation: values['allow-user-delegation'] === true,
        });
      } catch (err) {
        if (err instanceof ClientPolicyError) throw new UsageError(err.message);
        throw err;
      }
      out.print(
        JSON.stringify({ client_id: created.clientId, client_secret: created.clientSecret }, null, 2),
      );
      out.note(
        `created client '${created.clientId}' (${name}) of org '${orgId}': store the secret now, it is not kept and cannot be shown again`,
      );
      if (org.disabled)
        out.note(`note: org '${orgId}' is disabled: the client cannot get tokens until the org is enabled`);
    },
  },
  {
    name: 'list-clients',
    summary: 'list the OAuth clients of an org',
    usage: '--org ID [--json]',
    options: ORG_FLAG,
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      await existingOrg(ctx, orgId);
      printListing(
        out,
        await (await ctx.clients()).listForOrg(orgId),
        ['CLIENT_ID', 'NAME', 'STATUS', 'GRANTS', 'SCOPES', 'CREATED'],
        (c) => [
          c.id,
          c.name,
          status(c.disabled),
          c.grantTypes.join(','),
          c.scopes.join(','),
          date(c.createdAt),
        ],
        view,
      );
    },
  },
  {
    name: 'show-client',
    summary: 'show an OAuth client (never its secret: only a keyed hash is stored)',
    usage: '--id CLIENT_ID [--json]',
    options: ID_FLAG,
    async run(ctx, values, out) {
      const c = view(await existingClient(ctx, required(values, 'id')));
      if (out.json) return out.print(JSON.stringify(c, null, 2));
      out.print(
        details([
          ['client id', c.clientId],
          ['org', c.org],
          ['name', c.name],
          ['status', c.status],
          ['grants', c.grants.join(', ')],
          ['scopes', c.scopes.join(', ')],
          ['redirect URIs', c.redirectUris.join(' ') || '-'],
          ['user delegation', c.allowUserDelegation ? 'allowed' : 'no'],
          ['created', date(c.createdAt)],
        ]),
      );
    },
  },
  ...switchCommands({
    noun: 'client',
    usage: '--id CLIENT_ID',
    options: ID_FLAG,
    disable: {
      summary: 'disable a client: it can no longer authenticate, and its tokens are refused within seconds',
      effect: ': it can no longer authenticate, and every token it holds or issued is refused within seconds',
    },
    enable: {
      summary: 'enable a disabled client again',
      effect: ' (tokens revoked while it was disabled stay revoked)',
    },
    async find(ctx, values) {
      const id = required(values, 'id');
      const client = await existingClient(ctx, id);
      return {
        label: `client '${id}'`,
        disabled: client.disabled,
        missing: `client '${id}' does not exist`,
        set: async (disabled) => {
          const clients = await ctx.clients();
          return disabled ? clients.disable(id) : clients.enable(id);
        },
      };
    },
  }),
  {
    name: 'revoke-client',
    summary: 'revoke every token a client holds or issued (refresh tokens included); it stays enabled',
    usage: '--id CLIENT_ID',
    details: 'Its access tokens are refused on every gateway and service within seconds.',
    options: ID_FLAG,
    async run(ctx, values, out) {
      const client = await existingClient(ctx, required(values, 'id'));
      if (!(await (await ctx.clients()).revokeAllOfClient(client.id)))
        throw new AdminFailure(`client '${client.id}' does not exist`);
      if (out.json) return out.print(JSON.stringify({ client: client.id, revoked: true }));
      out.print(`revoked every token client '${client.id}' holds or issued`);
    },
  },
  {
    name: 'delete-client',
    summary: 'delete a client with its refresh tokens and codes; its tokens are refused within seconds',
    usage: '--id CLIENT_ID --yes',
    details:
      'The bootstrap admin client comes back at the next token-broker start while BOOTSTRAP_CLIENT_SECRET is set.',
    options: { ...ID_FLAG, ...YES_FLAG },
    async run(ctx, values, out) {
      const id = required(values, 'id');
      confirmed(values, `delete-client removes client '${id}' with its refresh tokens`);
      await existingClient(ctx, id);
      if (!(await (await ctx.clients()).delete(id))) throw new AdminFailure(`client '${id}' does not exist`);
      if (out.json) return out.print(JSON.stringify({ client: id, deleted: true }));
      out.print(`deleted client '${id}'`);
    },
  },
];
