import { SCOPES } from '@broker/contracts';
import type { UserEntity } from '@broker/identity';
import type { AdminContext } from './admin-context';
import {
  AdminFailure,
  Command,
  ORG_FLAG,
  UsageError,
  YES_FLAG,
  confirmed,
  listOf,
  optional,
  required,
  switchCommands,
} from './command';
import { existingOrg } from './orgs.commands';
import { date, details, printListing, status, table } from './output';

const USER_FLAGS = { ...ORG_FLAG, sub: { type: 'string' } } as const;

async function existingUser(ctx: AdminContext, orgId: string, sub: string): Promise<UserEntity> {
  await existingOrg(ctx, orgId);
  const user = await (await ctx.users()).find(orgId, sub);
  if (!user)
    throw new AdminFailure(
      `org '${orgId}' has no user '${sub}' (list them with: npm run admin -- list-users --org ${orgId})`,
    );
  return user;
}

const name = (u: UserEntity) => [u.givenName, u.familyName].filter(Boolean).join(' ');

function view(u: UserEntity) {
  return {
    sub: u.sub,
    org: u.orgId,
    email: u.email,
    name: name(u) || null,
    zoneinfo: u.zoneinfo,
    scopes: u.scopes,
    status: status(u.disabled),
    registeredAt: u.registeredAt,
  };
}

export const userCommands: Command[] = [
  {
    name: 'create-user',
    summary: 'invite a person to an org: they may then sign in, with the scopes given here',
    usage:
      '--org ID --sub SUB [--email E] [--scopes a,b,...] [--given-name G] [--family-name F] [--zoneinfo TZ]\n' +
      "  They sign in matched by --sub or their verified --email; their tokens get their client's scopes ∩ --scopes\n" +
      `  (none by default; any of ${SCOPES.join(', ')}).`,
    options: {
      ...USER_FLAGS,
      email: { type: 'string' },
      scopes: { type: 'string' },
      'given-name': { type: 'string' },
      'family-name': { type: 'string' },
      zoneinfo: { type: 'string' },
    },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      const sub = required(values, 'sub');
      const scopes = listOf(optional(values, 'scopes'), SCOPES, 'scope') ?? [];
      await existingOrg(ctx, orgId);
      const { user, created } = await (
        await ctx.users()
      ).create(
        orgId,
        {
          sub,
          email: optional(values, 'email'),
          givenName: optional(values, 'given-name'),
          familyName: optional(values, 'family-name'),
          zoneinfo: optional(values, 'zoneinfo'),
        },
        scopes,
      );
      if (out.json) return out.print(JSON.stringify({ ...view(user), created }));
      out.print(
        created
          ? `created user '${sub}' of org '${orgId}'`
          : `user '${sub}' of org '${orgId}' already exists (unchanged)`,
      );
    },
  },
  {
    name: 'list-users',
    summary: 'list the users of an org',
    usage: '--org ID [--json]',
    options: ORG_FLAG,
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      await existingOrg(ctx, orgId);
      printListing(
        out,
        await (await ctx.users()).list(orgId),
        ['SUB', 'EMAIL', 'NAME', 'STATUS', 'SCOPES', 'REGISTERED'],
        (u) => [
          u.sub,
          u.email ?? '-',
          name(u) || '-',
          status(u.disabled),
          u.scopes.join(',') || '-',
          date(u.registeredAt),
        ],
        view,
      );
    },
  },
  {
    name: 'show-user',
    summary: 'show a user with their linked provider accounts',
    usage: '--org ID --sub SUB [--json]',
    options: USER_FLAGS,
    async run(ctx, values, out) {
      const user = await existingUser(ctx, required(values, 'org'), required(values, 'sub'));
      const links = await (await ctx.authorizations()).forUser(user.orgId, user.sub);
      const linked = links.map((a) => ({
        authorizationId: a.id,
        providerId: a.providerId,
        status: a.status,
        createdAt: a.createdAt,
      }));
      if (out.json) return out.print(JSON.stringify({ ...view(user), linkedAccounts: linked }, null, 2));
      out.print(
        details([
          ['sub', user.sub],
          ['org', user.orgId],
          ['email', user.email ?? '-'],
          ['name', name(user) || '-'],
          ['zoneinfo', user.zoneinfo ?? '-'],
          ['scopes', user.scopes.join(', ') || '-'],
          ['status', status(user.disabled)],
          ['registered', date(user.registeredAt)],
          ['linked provider accounts', linked.length],
        ]),
      );
      if (linked.length)
        out.print(
          table(
            ['AUTHORIZATION', 'PROVIDER', 'STATUS', 'LINKED'],
            linked.map((l) => [l.authorizationId, l.providerId, l.status, date(l.createdAt)]),
          ),
        );
    },
  },
  {
    name: 'set-user-scopes',
    summary: "set what a user may do: their tokens from a sign-in get their client's scopes ∩ these",
    usage: `--org ID --sub SUB --scopes a,b,...   (any of ${SCOPES.join(', ')}; --scopes '' for none)`,
    options: { ...USER_FLAGS, scopes: { type: 'string' } },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      const sub = required(values, 'sub');
      if (typeof values['scopes'] !== 'string') throw new UsageError('--scopes is required');
      const scopes = values['scopes'].trim() ? (listOf(values['scopes'], SCOPES, 'scope') ?? []) : [];
      await existingUser(ctx, orgId, sub);
      if (!(await (await ctx.users()).setScopes(orgId, sub, scopes)))
        throw new AdminFailure(`org '${orgId}' has no user '${sub}'`);
      if (out.json) return out.print(JSON.stringify({ org: orgId, sub, scopes }));
      out.print(
        `user '${sub}' of org '${orgId}' may now have: ${scopes.join(', ') || 'no scope'} (from their next sign-in or refresh)`,
      );
    },
  },
  ...switchCommands({
    noun: 'user',
    usage: '--org ID --sub SUB',
    options: USER_FLAGS,
    disable: {
      summary: 'disable a user: no sign-in, and every token they hold is refused within seconds',
      effect: ': they can no longer sign in, and every token they hold is refused within seconds',
    },
    enable: {
      summary: 'enable a disabled user again (they sign in again for new tokens)',
      effect: ' (tokens revoked while disabled stay revoked: they sign in again)',
    },
    async find(ctx, values) {
      const orgId = required(values, 'org');
      const sub = required(values, 'sub');
      const user = await existingUser(ctx, orgId, sub);
      return {
        label: `user '${sub}' of org '${orgId}'`,
        disabled: user.disabled,
        missing: `org '${orgId}' has no user '${sub}'`,
        set: async (disabled) => {
          const users = await ctx.users();
          return disabled ? users.disable(orgId, sub) : users.enable(orgId, sub);
        },
      };
    },
  }),
  {
    name: 'revoke-user',
    summary: 'revoke every token a user holds, for every client (refresh tokens included); they stay enabled',
    usage: '--org ID --sub SUB',
    details:
      'Their access tokens are refused on every gateway and service within seconds; they sign in again.',
    options: USER_FLAGS,
    async run(ctx, values, out) {
      const user = await existingUser(ctx, required(values, 'org'), required(values, 'sub'));
      if (!(await (await ctx.users()).revokeAllOfUser(user.orgId, user.sub)))
        throw new AdminFailure(`org '${user.orgId}' has no user '${user.sub}'`);
      if (out.json) return out.print(JSON.stringify({ org: user.orgId, sub: user.sub, revoked: true }));
      out.print(`revoked every token of user '${user.sub}' of org '${user.orgId}'`);
    },
  },
  {
    name: 'delete-user',
    summary:
      'delete a user; their tokens are refused within seconds (they must have no linked provider accounts left)',
    usage: '--org ID --sub SUB --yes',
    details:
      'The admin tool cannot revoke grants at providers: a user with linked accounts is deleted through the admin API\n' +
      '(DELETE /api/v1/oauth/admin/users/{sub}, which unlinks them with revocation at each provider), or unlinked first.',
    options: { ...USER_FLAGS, ...YES_FLAG },
    async run(ctx, values, out) {
      const orgId = required(values, 'org');
      const sub = required(values, 'sub');
      confirmed(values, `delete-user removes user '${sub}' of org '${orgId}' with their refresh tokens`);
      await existingUser(ctx, orgId, sub);
      const links = await (await ctx.authorizations()).forUser(orgId, sub);
      if (links.length) {
        throw new AdminFailure(
          `user '${sub}' of org '${orgId}' still has ${links.length} linked provider account(s) (${links.map((l) => l.id).join(', ')}): ` +
            `delete the user through the admin API (DELETE /api/v1/oauth/admin/users/${sub}, scope identity:admin), which unlinks them with ` +
            `revocation at each provider, or unlink them first (DELETE /api/v2/externalOAuth/authorizedProviders/{id}/) and run delete-user again`,
        );
      }
      if (!(await (await ctx.users()).delete(orgId, sub)))
        throw new AdminFailure(`org '${orgId}' has no user '${sub}'`);
      if (out.json) return out.print(JSON.stringify({ org: orgId, sub, deleted: true }));
      out.print(`deleted user '${sub}' of org '${orgId}'`);
    },
  },
];
