import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { EnvelopeCipher, KeyedHasher, TokenFingerprinter, parseKeyring } from '@broker/crypto';
import { ClientsService, GrantsService, IDENTITY_SCHEMA, OAuthError } from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { AuthorizationsService, TOKENS_SCHEMA, TokenLedger } from '@broker/tokens';
import { TestDatabase, createTestDatabase } from '@broker/testing';
import { ROOT } from './npm-start';

/**
 * The admin tool as people run it (the built tool, as in the container image, and once through
 * `npm run admin`), against real PostgreSQL: help for every command, exit codes, clear errors, and
 * list / disable / revoke / delete end to end, checked through the domain services.
 */
const ADMIN = join(ROOT, 'dist', 'apps', 'admin', 'main.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the admin CLI', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let cwd: string; // an empty folder: no local default from a data folder
  let identity: DataSource;
  let tokensDs: DataSource;

  function admin(
    args: string[],
    extraEnv: Record<string, string> = env,
    command = [process.execPath, ADMIN],
  ): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(command[0], [...command.slice(1), ...args], {
        cwd,
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  const pepper = randomBytes(32).toString('base64');
  const encryptionKeys = `k1:${randomBytes(32).toString('base64')}`;

  beforeAll(async () => {
    db = await createTestDatabase('admin-cli');
    env = { DATABASE_URL: db.url, SECRET_PEPPER: pepper, ENCRYPTION_KEYS: encryptionKeys };
    cwd = mkdtempSync(join(tmpdir(), 'admin-cli-'));
    // The tool migrates the schemas it opens; a first command does it before the services below connect.
    expect((await admin(['list-orgs'])).code).toBe(0);
    identity = await new DataSource(
      domainDataSourceOptions(db.url, IDENTITY_SCHEMA, 'e2e-admin-check', 2),
    ).initialize();
    tokensDs = await new DataSource(
      domainDataSourceOptions(db.url, TOKENS_SCHEMA, 'e2e-admin-check', 2),
    ).initialize();
  }, 60_000);

  afterAll(async () => {
    await identity?.destroy();
    await tokensDs?.destroy();
    await db?.drop();
    rmSync(cwd, { recursive: true, force: true });
  });

  const clients = () => new ClientsService(identity, new KeyedHasher(Buffer.from(pepper, 'base64')));
  const grants = () => new GrantsService(identity, new KeyedHasher(Buffer.from(pepper, 'base64')));

  /** A refresh-token family for (client, sub), the way a sign-in creates one: a code redeemed with PKCE. */
  async function signedIn(clientId: string, orgId: string, sub: string): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const code = await grants().issueCode({
      orgId,
      clientId,
      sub,
      scope: ['providers:read'],
      redirectUri: 'https://app.example.test/cb',
      codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    });
    return (await grants().redeemCode(code, clientId, 'https://app.example.test/cb', verifier)).refreshToken;
  }

  const COMMANDS = [
    'create-org',
    'list-orgs',
    'show-org',
    'set-sign-in-policy',
    'set-client-metadata-documents',
    'disable-org',
    'enable-org',
    'revoke-org',
    'delete-org',
    'create-client',
    'list-clients',
    'show-client',
    'disable-client',
    'enable-client',
    'revoke-client',
    'delete-client',
    'create-user',
    'list-users',
    'show-user',
    'set-user-scopes',
    'disable-user',
    'enable-user',
    'revoke-user',
    'delete-user',
    'key-rotation',
  ];

  it('has --help for the tool, listing every command, and for each command (exit 0, no database needed)', async () => {
    const tool = await admin(['--help'], {});
    expect(tool.code).toBe(0);
    expect(tool.stdout).toMatch(/^usage: npm run admin -- <command> \[options\]/);
    expect(tool.stdout).toContain('exit codes: 0 done');
    for (const name of COMMANDS) expect(tool.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    // Four at a time: some sixty processes started at once on a shared, busy machine outlast the
    // per-run timeout (a killed run exits with no code) without anything being wrong.
    const runs = COMMANDS.flatMap((name) => [
      [name, '--help'],
      ['help', name],
    ]);
    const help: Run[] = [];
    for (let i = 0; i < runs.length; i += 4)
      help.push(...(await Promise.all(runs.slice(i, i + 4).map((args) => admin(args, {})))));
    help.forEach((run, i) => {
      const name = COMMANDS[Math.floor(i / 2)];
      expect({ name, code: run.code }).toEqual({ name, code: 0 });
      expect(run.stdout).toMatch(new RegExp(`^usage: npm run admin -- ${name} `));
    });
  }, 120_000);

  it('exits 2 for wrong usage, with what is wrong and the usage', async () => {
    const cases: [string[], RegExp][] = [
      [[], /^usage: npm run admin -- <command>/],
      [['frobnicate'], /^admin: unknown command 'frobnicate'/],
      [['create-org'], /^admin: --id is required\n\nusage: npm run admin -- create-org/],
      [['create-org', '--id', 'x', '--colour', 'red'], /^admin: Unknown option '--colour'/],
      [['create-org', '--id', 'not valid!'], /^admin: --id must be letters, digits/],
      [
        ['create-client', '--org', 'acme', '--name', 'x', '--scopes', 'everything'],
        /^admin: unknown scope: everything/,
      ],
      [
        ['create-client', '--org', 'acme', '--name', 'x', '--grants', 'authorization_code'],
        /needs at least one --redirect-uri/,
      ],
      [['delete-org', '--id', 'acme'], /cannot be undone: add --yes to confirm/],
    ];
    for (const [args, message] of cases) {
      const run = await admin(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
  }, 60_000);

  it('exits 1 with a clear message for an unknown org, client or user, missing settings and an unreachable database', async () => {
    const unknownOrg = await admin(['create-user', '--org', 'nope', '--sub', 'carol']);
    expect(unknownOrg).toMatchObject({ code: 1, stdout: '' });
    expect(unknownOrg.stderr).toBe(
      "admin: org 'nope' does not exist (list them with: npm run admin -- list-orgs)\n",
    );
    expect(unknownOrg.stderr).not.toMatch(/foreign key|violates|constraint/i);
    for (const args of [
      ['list-users', '--org', 'nope'],
      ['create-client', '--org', 'nope', '--name', 'x'],
      ['delete-org', '--id', 'nope', '--yes'],
    ]) {
      const run = await admin(args);
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({
        args,
        code: 1,
        stderr: expect.stringContaining("org 'nope' does not exist"),
      });
    }
    expect(await admin(['show-client', '--id', 'cl_nope'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("client 'cl_nope' does not exist"),
    });
    await admin(['create-org', '--id', 'lonely']);
    expect(await admin(['disable-user', '--org', 'lonely', '--sub', 'ghost'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("org 'lonely' has no user 'ghost'"),
    });

    const noSettings = await admin(['list-orgs'], {});
    expect(noSettings.code).toBe(1);
    expect(noSettings.stderr).toMatch(
      /DATABASE_URL, SECRET_PEPPER, ENCRYPTION_KEYS are not set and no local default was found/,
    );
    const unreachable = await admin(['list-orgs'], {
      ...env,
      DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/broker',
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^admin: cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/broker/,
    );
    expect(unreachable.stderr).not.toContain('hunter2');
  }, 60_000);

  it('says "created" once and "already exists" after, for orgs and users', async () => {
    expect(await admin(['create-org', '--id', 'acme', '--name', 'Acme'])).toMatchObject({
      code: 0,
      stdout: "created org 'acme' (Acme)\n",
    });
    expect(await admin(['create-org', '--id', 'acme', '--name', 'Other'])).toMatchObject({
      code: 0,
      stdout: "org 'acme' already exists (unchanged)\n",
    });
    expect(
      await admin(['create-user', '--org', 'acme', '--sub', 'carol', '--email', 'carol@acme.test']),
    ).toMatchObject({ code: 0, stdout: "created user 'carol' of org 'acme'\n" });
    expect(await admin(['create-user', '--org', 'acme', '--sub', 'carol'])).toMatchObject({
      code: 0,
      stdout: "user 'carol' of org 'acme' already exists (unchanged)\n",
    });
    const orgs = JSON.parse((await admin(['list-orgs', '--json'])).stdout) as {
      id: string;
      name: string;
      users: number;
    }[];
    expect(orgs.find((o) => o.id === 'acme')).toMatchObject({ name: 'Acme', users: 1 });
  }, 60_000);

  it('lists, disables, revokes and deletes clients, users and orgs end to end', async () => {
    await admin(['create-org', '--id', 'globex', '--name', 'Globex']);
    const created = await admin([
      'create-client',
      '--org',
      'globex',
      '--name',
      'web',
      '--grants',
      'authorization_code,refresh_token',
      '--scopes',
      'providers:read',
      '--redirect-uri',
      'https://app.example.test/cb',
    ]);
    expect(created.code).toBe(0);
    const { client_id: clientId, client_secret: secret } = JSON.parse(created.stdout) as {
      client_id: string;
      client_secret: string;
    };
    expect(created.stderr).toContain(`created client '${clientId}' (web) of org 'globex'`);
    await admin([
      'create-user',
      '--org',
      'globex',
      '--sub',
      'dana',
      '--email',
      'dana@globex.test',
      '--given-name',
      'Dana',
    ]);
    await admin(['create-user', '--org', 'globex', '--sub', 'eli']);

    // list
    const listed = await admin(['list-clients', '--org', 'globex']);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^CLIENT_ID +NAME +STATUS +GRANTS +SCOPES +CREATED\\n${clientId} +web +active +authorization_code,refresh_token +providers:read `,
      ),
    );
    expect(listed.stdout).not.toContain(secret);
    const users = JSON.parse((await admin(['list-users', '--org', 'globex', '--json'])).stdout) as {
      sub: string;
      status: string;
      name: string | null;
    }[];
    expect(users.map((u) => [u.sub, u.status, u.name])).toEqual([
      ['dana', 'active', 'Dana'],
      ['eli', 'active', null],
    ]);

    // disable / enable a client: authentication follows
    await expect(clients().authenticate(clientId, secret)).resolves.toMatchObject({ id: clientId });
    expect((await admin(['disable-client', '--id', clientId])).stdout).toBe(
      `disabled client '${clientId}': it can no longer authenticate, and every token it holds or issued is refused within seconds\n`,
    );
    await expect(clients().authenticate(clientId, secret)).rejects.toBeInstanceOf(OAuthError);
    expect((await admin(['disable-client', '--id', clientId])).stdout).toBe(
      `client '${clientId}' is already disabled\n`,
    );
    await admin(['enable-client', '--id', clientId]);
    await expect(clients().authenticate(clientId, secret)).resolves.toMatchObject({ id: clientId });

    // disable / enable the org: its clients cannot authenticate meanwhile
    expect((await admin(['disable-org', '--id', 'globex'])).code).toBe(0);
    await expect(clients().authenticate(clientId, secret)).rejects.toMatchObject({ error: 'invalid_client' });
    expect(JSON.parse((await admin(['show-org', '--id', 'globex', '--json'])).stdout)).toMatchObject({
      id: 'globex',
      disabled: true,
      clients: 1,
      users: 2,
      providers: 0,
      linkedAccounts: 0,
    });
    await admin(['enable-org', '--id', 'globex']);
    await expect(clients().authenticate(clientId, secret)).resolves.toMatchObject({ id: clientId });

    // revoke a user: their refresh tokens stop working, other users' keep working
    const dana = await signedIn(clientId, 'globex', 'dana');
    const eli = await signedIn(clientId, 'globex', 'eli');
    expect((await admin(['revoke-user', '--org', 'globex', '--sub', 'dana'])).stdout).toBe(
      "revoked every token of user 'dana' of org 'globex'\n",
    );
    await expect(grants().rotateRefresh(dana, clientId)).rejects.toMatchObject({ error: 'invalid_grant' });
    const eliNext = (await grants().rotateRefresh(eli, clientId)).refreshToken;

    // disabling a user revokes theirs too; revoking a client ends every family it holds
    const dana2 = await signedIn(clientId, 'globex', 'dana');
    expect((await admin(['disable-user', '--org', 'globex', '--sub', 'dana'])).stdout).toMatch(
      /^disabled user 'dana' of org 'globex': they can no longer sign in, and every token they hold is refused within seconds\n$/,
    );
    await expect(grants().rotateRefresh(dana2, clientId)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(
      JSON.parse((await admin(['show-user', '--org', 'globex', '--sub', 'dana', '--json'])).stdout),
    ).toMatchObject({ sub: 'dana', status: 'disabled', linkedAccounts: [] });
    expect((await admin(['revoke-client', '--id', clientId])).stdout).toBe(
      `revoked every token client '${clientId}' holds or issued\n`,
    );
    await expect(grants().rotateRefresh(eliNext, clientId)).rejects.toMatchObject({ error: 'invalid_grant' });

    // a user with a linked provider account is not deleted until it is unlinked
    const cipher = new EnvelopeCipher(parseKeyring(encryptionKeys));
    const authorizations = new AuthorizationsService(tokensDs, cipher);
    const link = await authorizations.store('globex', {
      providerId: randomUUID(),
      userId: 'eli',
      oauthClientId: 'provider-app',
      scopes: ['read'],
      tokens: { accessToken: 'provider-token' },
    });
    const refused = await admin(['delete-user', '--org', 'globex', '--sub', 'eli', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `user 'eli' of org 'globex' still has 1 linked provider account(s) (${link.id})`,
    );
    expect(
      JSON.parse((await admin(['show-user', '--org', 'globex', '--sub', 'eli', '--json'])).stdout)
        .linkedAccounts,
    ).toEqual([expect.objectContaining({ authorizationId: link.id, status: 'active' })]);
    await authorizations.remove('globex', link.id);
    expect(await admin(['delete-user', '--org', 'globex', '--sub', 'eli', '--yes'])).toMatchObject({
      code: 0,
      stdout: "deleted user 'eli' of org 'globex'\n",
    });
    expect(
      JSON.parse((await admin(['list-users', '--org', 'globex', '--json'])).stdout).map(
        (u: { sub: string }) => u.sub,
      ),
    ).toEqual(['dana']);

    // delete the client, then the org with what is left
    expect(await admin(['delete-client', '--id', clientId, '--yes'])).toMatchObject({
      code: 0,
      stdout: `deleted client '${clientId}'\n`,
    });
    expect(await admin(['show-client', '--id', clientId])).toMatchObject({ code: 1 });
    expect(await admin(['delete-org', '--id', 'globex', '--yes'])).toMatchObject({
      code: 0,
      stdout: "deleted org 'globex' with 0 client(s), 1 user(s) and 0 refresh token(s)\n",
    });
    const orgs = JSON.parse((await admin(['list-orgs', '--json'])).stdout) as { id: string }[];
    expect(orgs.map((o) => o.id)).not.toContain('globex');
  }, 120_000);

  it('lets an org accept clients identified by URL (client ID metadata documents), with checked settings', async () => {
    await admin(['create-org', '--id', 'cimd-org']);
    expect(JSON.parse((await admin(['show-org', '--id', 'cimd-org', '--json'])).stdout)).toMatchObject({
      clientMetadataDocuments: { enabled: false, allowedClients: [], maxScopes: [] },
    });
    expect(
      await admin([
        'set-client-metadata-documents',
        '--id',
        'cimd-org',
        '--enabled',
        'yes',
        '--allow',
        'App.example.com,https://tools.example.org/mcp/',
        '--scopes',
        'providers:read',
      ]),
    ).toMatchObject({
      code: 0,
      stdout:
        "org 'cimd-org': clients identified by URL accepted (app.example.com, https://tools.example.org/mcp/), scopes at most: providers:read\n",
    });
    expect(JSON.parse((await admin(['show-org', '--id', 'cimd-org', '--json'])).stdout)).toMatchObject({
      clientMetadataDocuments: {
        enabled: true,
        allowedClients: ['app.example.com', 'https://tools.example.org/mcp/'],
        maxScopes: ['providers:read'],
      },
    });
    for (const [args, message] of [
      [
        ['set-client-metadata-documents', '--id', 'cimd-org', '--enabled', 'maybe'],
        /--enabled must be yes or no/,
      ],
      [['set-client-metadata-documents', '--id', 'cimd-org', '--enabled', 'yes'], /maxScopes/],
      [
        [
          'set-client-metadata-documents',
          '--id',
          'cimd-org',
          '--enabled',
          'yes',
          '--scopes',
          'tokens:delegate',
        ],
        /tokens:delegate cannot be given/,
      ],
      [
        [
          'set-client-metadata-documents',
          '--id',
          'cimd-org',
          '--enabled',
          'yes',
          '--scopes',
          'providers:read',
          '--allow',
          'https://a.example/no-slash',
        ],
        /ends with \//,
      ],
    ] as [string[], RegExp][]) {
      const run = await admin(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
    expect(
      await admin(['set-client-metadata-documents', '--id', 'cimd-org', '--enabled', 'no']),
    ).toMatchObject({ code: 0, stdout: "org 'cimd-org': clients identified by URL are not accepted\n" });
    expect(await admin(['set-client-metadata-documents', '--id', 'nope', '--enabled', 'no'])).toMatchObject({
      code: 1,
    });
  });

  it("sets an org's sign-in policy and a user's scopes", async () => {
    await admin(['create-org', '--id', 'hooli']);
    expect(JSON.parse((await admin(['show-org', '--id', 'hooli', '--json'])).stdout)).toMatchObject({
      signInMode: 'invited',
      allowedEmailDomains: [],
      requireVerifiedEmail: true,
    });
    expect(
      await admin([
        'set-sign-in-policy',
        '--id',
        'hooli',
        '--mode',
        'domains',
        '--domains',
        'Hooli.test,eu.hooli.test',
        '--default-scopes',
        'providers:read',
      ]),
    ).toMatchObject({
      code: 0,
      stdout:
        "org 'hooli': invited users and verified addresses of hooli.test, eu.hooli.test may sign in (new users get: providers:read)\n",
    });
    expect(JSON.parse((await admin(['show-org', '--id', 'hooli', '--json'])).stdout)).toMatchObject({
      signInMode: 'domains',
      allowedEmailDomains: ['hooli.test', 'eu.hooli.test'],
      defaultUserScopes: ['providers:read'],
    });
    for (const [args, message] of [
      [['set-sign-in-policy', '--id', 'hooli', '--mode', 'everyone'], /--mode must be invited or domains/],
      [['set-sign-in-policy', '--id', 'hooli', '--mode', 'domains'], /--mode domains needs --domains/],
      [
        ['set-sign-in-policy', '--id', 'hooli', '--mode', 'domains', '--domains', 'not a domain'],
        /not a domain name: not a domain/,
      ],
      [['set-user-scopes', '--org', 'hooli', '--sub', 'gavin'], /--scopes is required/],
    ] as [string[], RegExp][]) {
      const run = await admin(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
    expect(await admin(['set-sign-in-policy', '--id', 'nope', '--mode', 'invited'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("org 'nope' does not exist"),
    });
    await admin(['create-user', '--org', 'hooli', '--sub', 'gavin', '--scopes', 'providers:read']);
    expect(
      (
        await admin([
          'set-user-scopes',
          '--org',
          'hooli',
          '--sub',
          'gavin',
          '--scopes',
          'providers:read,tokens:read',
        ])
      ).code,
    ).toBe(0);
    expect(JSON.parse((await admin(['list-users', '--org', 'hooli', '--json'])).stdout)).toEqual([
      expect.objectContaining({ sub: 'gavin', scopes: ['providers:read', 'tokens:read'] }),
    ]);
    expect(
      (await admin(['set-user-scopes', '--org', 'hooli', '--sub', 'gavin', '--scopes', ''])).stdout,
    ).toBe("user 'gavin' of org 'hooli' may now have: no scope (from their next sign-in or refresh)\n");
  }, 60_000);

  it('revokes or disables a whole org: the sign-in sessions of its clients end', async () => {
    await admin(['create-org', '--id', 'umbrella']);
    const { client_id: clientId, client_secret: secret } = JSON.parse(
      (
        await admin([
          'create-client',
          '--org',
          'umbrella',
          '--name',
          'web',
          '--grants',
          'authorization_code,refresh_token',
          '--redirect-uri',
          'https://app.example.test/cb',
        ])
      ).stdout,
    ) as { client_id: string; client_secret: string };
    await admin(['create-user', '--org', 'umbrella', '--sub', 'jill', '--scopes', 'providers:read']);
    const first = await signedIn(clientId, 'umbrella', 'jill');
    expect(await admin(['revoke-org', '--id', 'umbrella'])).toMatchObject({
      code: 0,
      stdout: "revoked every token of org 'umbrella' (1 client(s), with their refresh tokens)\n",
    });
    await expect(grants().rotateRefresh(first, clientId)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The org stays enabled after a revoke: new sign-ins work.
    const second = await signedIn(clientId, 'umbrella', 'jill');
    expect((await admin(['disable-org', '--id', 'umbrella'])).stdout).toMatch(
      /^disabled org 'umbrella': its clients can no longer authenticate/,
    );
    await expect(grants().rotateRefresh(second, clientId)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(clients().authenticate(clientId, secret)).rejects.toMatchObject({ error: 'invalid_client' });
    expect((await admin(['disable-org', '--id', 'umbrella'])).stdout).toBe(
      "org 'umbrella' is already disabled\n",
    );
    expect(await admin(['revoke-org', '--id', 'nope'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining("org 'nope' does not exist"),
    });
  }, 60_000);

  it('refuses to delete an org that still has linked provider accounts', async () => {
    await admin(['create-org', '--id', 'initech']);
    const authorizations = new AuthorizationsService(
      tokensDs,
      new EnvelopeCipher(parseKeyring(encryptionKeys)),
    );
    await authorizations.store('initech', {
      providerId: randomUUID(),
      userId: 'peter',
      oauthClientId: 'provider-app',
      scopes: [],
      tokens: { accessToken: 'provider-token' },
    });
    const run = await admin(['delete-org', '--id', 'initech', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "org 'initech' still has 0 provider(s) and 1 linked provider account(s): delete its providers first",
    );
    expect(
      JSON.parse((await admin(['list-orgs', '--json'])).stdout).map((o: { id: string }) => o.id),
    ).toContain('initech');
  }, 60_000);

  it('grants, lists and withdraws consumer policies, and reads the provenance ledger (never a token)', async () => {
    await admin(['create-org', '--id', 'hooli']);
    const billing = await clients().createClient({
      orgId: 'hooli',
      name: 'billing',
      grantTypes: ['client_credentials'],
      scopes: ['tokens:read'],
    });
    const providerId = randomUUID();
    const granted = await admin([
      'grant-tokens',
      '--id',
      billing.clientId,
      '--providers',
      `github,${providerId}`,
      '--subjects',
      'users:alice,bob',
      '--max-scopes',
      'read:org',
      '--max-lifetime',
      '600',
      '--json',
    ]);
    expect(granted.code).toBe(0);
    const grant = JSON.parse(granted.stdout) as { id: string };
    expect(grant).toMatchObject({
      clientId: billing.clientId,
      providers: { ids: [providerId], types: ['github'] },
      subjects: { mode: 'users', users: ['alice', 'bob'] },
      maxScopes: ['read:org'],
      maxLifetimeSeconds: 600,
    });
    const listed = await admin(['list-token-grants', '--org', 'hooli']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(grant.id);
    expect(listed.stdout).toContain('users:alice,bob');
    // Wrong usage names what is wrong (exit 2); an unknown client is exit 1.
    const bad = await admin([
      'grant-tokens',
      '--id',
      billing.clientId,
      '--providers',
      '*',
      '--subjects',
      'everyone',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--subjects must be self, org or users:');
    expect(
      (await admin(['grant-tokens', '--id', 'nobody', '--providers', '*', '--subjects', 'org'])).code,
    ).toBe(1);
    expect((await admin(['withdraw-token-grant', '--org', 'hooli', '--grant', grant.id])).code).toBe(0);
    const again = await admin(['withdraw-token-grant', '--org', 'hooli', '--grant', grant.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('does not exist');

    // A serve recorded by the token path (fingerprinted with the same pepper), read back by the tool.
    const token = `canary-provider-token-${randomBytes(8).toString('hex')}`;
    const ledger = new TokenLedger(tokensDs, new TokenFingerprinter(Buffer.from(pepper, 'base64')));
    ledger.record({
      orgId: 'hooli',
      consumer: billing.clientId,
      subject: 'alice',
      authorizationId: randomUUID(),
      providerId,
      path: 'bus',
      attenuated: false,
      expiresAt: null,
      token,
    });
    await ledger.close();
    const read = await admin([
      'ledger',
      '--org',
      'hooli',
      '--subject',
      'alice',
      '--since',
      '2020-01-01T00:00:00Z',
      '--json',
    ]);
    expect(read.code).toBe(0);
    const page = JSON.parse(read.stdout) as { items: { consumer: string; tokenFingerprint: string }[] };
    expect(page.items).toEqual([
      expect.objectContaining({
        consumer: billing.clientId,
        tokenFingerprint: new TokenFingerprinter(Buffer.from(pepper, 'base64')).ofToken(token),
      }),
    ]);
    expect(read.stdout).not.toContain(token);
    expect((await admin(['ledger', '--org', 'hooli', '--since', 'yesterday'])).code).toBe(2);
  }, 60_000);

  it('runs the same way through npm run admin', async () => {
    const run = await admin(['run', '-s', 'admin', '--', 'show-org', '--id', 'acme'], env, [
      'npm',
      '--prefix',
      ROOT,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^id: +acme\nname: +Acme\nstatus: +active\n/);
  }, 60_000);
});
