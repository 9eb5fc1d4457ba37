import { BusException } from '@broker/bus';
import { DecryptionError, EnvelopeCipher, parseKeyring } from '@broker/crypto';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, randomKey, TestDatabase } from '@broker/testing';
import { DataSource } from 'typeorm';
import {
  JobsService,
  ProviderEntity,
  ProviderResolver,
  ProvidersService,
  REGISTRY_SCHEMA,
  SecureConfigEntity,
  SecureConfigsService,
} from '../src';
import { resolveProvider } from '@broker/provider-adapters';

const K1 = randomKey().toString('base64');
const K2 = randomKey().toString('base64');

/** The real catalogue (synchronous: no discovery in these tests). */
const resolver: ProviderResolver = async (type, instance) => resolveProvider(type, instance);

function services(dataSource: DataSource, keys: string, active?: string) {
  const secrets = new SecureConfigsService(dataSource, new EnvelopeCipher(parseKeyring(keys, active)));
  const jobs = new JobsService(dataSource);
  return { secrets, jobs, providers: new ProvidersService(dataSource, secrets, jobs, resolver) };
}

const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err instanceof BusException ? (err.getError() as { code: string; fields?: unknown }) : err;
  }
  throw new Error('expected a failure');
};

describe('provider registry on PostgreSQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let reg: ReturnType<typeof services>;
  const base = {
    clientId: 'client-id',
    clientSecret: 'the-client-secret-1',
    name: 'GitHub',
    type: 'github' as const,
  };

  beforeAll(async () => {
    db = await createTestDatabase('registry');
    dataSource = await new DataSource(
      domainDataSourceOptions(db.url, REGISTRY_SCHEMA, 'registry-test'),
    ).initialize();
    await migrateDomainSchema(dataSource, REGISTRY_SCHEMA.schema);
    reg = services(dataSource, `k1:${K1}`);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  describe('listing', () => {
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      const repo = dataSource.getRepository(ProviderEntity);
      const rows = [
        {
          orgId: 'list-a',
          name: 'GitHub',
          type: 'github',
          host: 'github.com',
          createdAt: new Date('2026-01-01T00:00:00Z'),
        },
        {
          orgId: 'list-a',
          name: 'GHE',
          type: 'github',
          host: 'git.example.com',
          createdAt: new Date('2026-01-02T00:00:00Z'),
        },
        {
          orgId: 'list-a',
          name: 'Box',
          type: 'box',
          host: 'box.com',
          createdAt: new Date('2026-01-03T00:00:00Z'),
        },
        {
          orgId: 'list-b',
          name: 'Other org',
          type: 'github',
          host: 'github.com',
          createdAt: new Date('2026-01-04T00:00:00Z'),
        },
      ] as const;
      for (const row of rows)
        ids[row.name] = (await repo.save(repo.create({ ...row, clientId: `${row.name}-client` }))).id;
    });
    const names = async (orgId: string, query: Parameters<ProvidersService['list']>[1]) =>
      (await reg.providers.list(orgId, query)).map((p) => p.name);

    it('lists only the org’s providers, newest first by default, oldest first with orderBy=createdAt', async () => {
      expect(await names('list-a', {})).toEqual(['Box', 'GHE', 'GitHub']);
      expect(await names('list-b', {})).toEqual(['Other org']);
      expect(await names('list-a', { orderBy: 'createdAt' })).toEqual(['GitHub', 'GHE', 'Box']);
    });

    it('filters by ids, types and host, each as any-of, combined as all-of', async () => {
      expect(await names('list-a', { ids: [ids['GitHub'], ids['Box']] })).toEqual(['Box', 'GitHub']);
      expect(await names('list-a', { ids: [ids['Other org']] })).toEqual([]);
      expect(await names('list-a', { ids: ['not-a-uuid'] })).toEqual([]);
      expect(await names('list-a', { types: ['github'] })).toEqual(['GHE', 'GitHub']);
      expect(await names('list-a', { host: ['github.com', 'box.com'] })).toEqual(['Box', 'GitHub']);
      expect(await names('list-a', { types: ['github'], host: ['git.example.com'] })).toEqual(['GHE']);
    });
  });

  it('creates a provider with its secret encrypted in a secure config, never in the answer', async () => {
    const created = await reg.providers.create('org-a', {
      ...base,
      scopes: ['repo'],
      skipConsent: true,
      host: 'git.example.com',
    });
    expect(created).toMatchObject({
      orgId: 'org-a',
      name: 'GitHub',
      type: 'github',
      status: 'active',
      clientId: 'client-id',
      customScopes: ['repo'],
      skipConsent: true,
    });
    expect(created.metadata).toMatchObject({
      host: 'git.example.com',
      baseUrl: 'https://git.example.com',
      settingsUrl: expect.stringMatching(/^https:\/\/git\.example\.com\//),
    });
    expect(JSON.stringify(created)).not.toContain(base.clientSecret);
    const row = await dataSource
      .getRepository(SecureConfigEntity)
      .findOneByOrFail({ id: created.secureConfigId });
    expect(row.clientSecret).not.toContain(base.clientSecret);
    expect(row.clientSecret.startsWith('v1.k1.')).toBe(true);
    expect(await reg.secrets.reveal('org-a', created.secureConfigId)).toBe(base.clientSecret);
    expect(await reg.secrets.reveal('org-b', created.secureConfigId)).toBeNull();
  });

  it('names bad instance settings as field errors', async () => {
    const error = (await errorOf(reg.providers.create('org-a', { ...base, type: 'oauth2' }))) as {
      code: string;
      fields: { name: string }[];
    };
    expect(error.code).toBe('UNPROCESSABLE');
    expect(error.fields.map((f) => f.name)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^endpoints/)]),
    );
    const wrongField = (await errorOf(reg.providers.create('org-a', { ...base, tenant: 'contoso' }))) as {
      fields: { name: string }[];
    };
    expect(wrongField.fields.map((f) => f.name)).toEqual(['tenant']);
  });

  it('updates name, skipConsent, secret and active ↔ invalid; refuses deletion states', async () => {
    const p = await reg.providers.create('org-a', base);
    const updated = await reg.providers.update('org-a', p.id, {
      name: 'Renamed',
      skipConsent: true,
      status: 'invalid',
      clientSecret: 'second-secret',
    });
    expect(updated).toMatchObject({
      name: 'Renamed',
      skipConsent: true,
      status: 'invalid',
      secureConfigId: p.secureConfigId,
    });
    expect(await reg.secrets.reveal('org-a', p.secureConfigId)).toBe('second-secret');
    expect((await reg.providers.update('org-a', p.id, { status: 'active' })).status).toBe('active');
    for (const status of ['deleting', 'deletion_failed'] as const) {
      expect(await errorOf(reg.providers.update('org-a', p.id, { status }))).toMatchObject({
        code: 'UNPROCESSABLE',
        fields: [{ name: 'status' }],
      });
    }
    expect(await errorOf(reg.providers.update('org-b', p.id, { name: 'x' }))).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await errorOf(reg.providers.get('org-a', 'not-a-uuid'))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('starts one deletion job per provider, refuses PATCH meanwhile, and removes provider and secret at the end', async () => {
    const p = await reg.providers.create('org-a', base);
    const first = await reg.providers.requestDeletion('org-a', p.id);
    const again = await reg.providers.requestDeletion('org-a', p.id);
    expect(first.created).toBe(true);
    expect(again).toEqual({ job: expect.objectContaining({ id: first.job.id }), created: false });
    expect((await reg.providers.get('org-a', p.id)).status).toBe('deleting');
    expect(await errorOf(reg.providers.update('org-a', p.id, { name: 'x' }))).toMatchObject({
      code: 'CONFLICT',
    });
    expect(await reg.jobs.get('org-a', first.job.id)).toMatchObject({
      type: 'DELETE_PROVIDER',
      status: 'PENDING',
      details: [{ name: 'provider_id', value: p.id }],
    });
    expect(await reg.jobs.get('org-b', first.job.id)).toBeNull();

    await reg.providers.markDeletionFailed('org-a', p.id);
    expect((await reg.providers.get('org-a', p.id)).status).toBe('deletion_failed');
    const retry = await reg.providers.requestDeletion('org-a', p.id);
    expect(retry.created).toBe(true);
    await reg.providers.removeDeleted('org-a', p.id);
    expect(await errorOf(reg.providers.get('org-a', p.id))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await dataSource.getRepository(SecureConfigEntity).findOneBy({ id: p.secureConfigId })).toBeNull();
  });

  it('fails closed on tampered, swapped, moved and unknown-key ciphertexts', async () => {
    const a = await reg.providers.create('org-a', { ...base, clientSecret: 'secret-of-a' });
    const b = await reg.providers.create('org-a', { ...base, clientSecret: 'secret-of-b' });
    const repo = dataSource.getRepository(SecureConfigEntity);
    const rowA = await repo.findOneByOrFail({ id: a.secureConfigId });
    const rowB = await repo.findOneByOrFail({ id: b.secureConfigId });

    // Swapped between rows: each opens only in its own row.
    await repo.update({ id: rowA.id }, { clientSecret: rowB.clientSecret });
    await repo.update({ id: rowB.id }, { clientSecret: rowA.clientSecret });
    await expect(reg.secrets.reveal('org-a', rowA.id)).rejects.toBeInstanceOf(DecryptionError);
    await expect(reg.secrets.reveal('org-a', rowB.id)).rejects.toBeInstanceOf(DecryptionError);

    // Tampered: one character of the ciphertext changed.
    const parts = rowA.clientSecret.split('.');
    parts[3] = (parts[3][0] === 'A' ? 'B' : 'A') + parts[3].slice(1);
    await repo.update({ id: rowA.id }, { clientSecret: parts.join('.') });
    await expect(reg.secrets.reveal('org-a', rowA.id)).rejects.toBeInstanceOf(DecryptionError);

    // Moved to another org (same row id): the org is part of the associated data.
    await repo.update({ id: rowB.id }, { clientSecret: rowB.clientSecret, orgId: 'org-b' });
    await expect(reg.secrets.reveal('org-b', rowB.id)).rejects.toBeInstanceOf(DecryptionError);

    // A keyring that lacks the key: no plaintext fallback.
    const c = await reg.providers.create('org-a', { ...base, clientSecret: 'secret-of-c' });
    const other = services(dataSource, `k9:${K2}`);
    await expect(other.secrets.reveal('org-a', c.secureConfigId)).rejects.toThrow(/unknown key id 'k1'/);
  });

  it('rotates the key online: concurrent secret updates are never lost and everything decrypts under the new key alone', async () => {
    const org = 'rotation-org';
    const count = 30;
    const created = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        reg.providers.create(org, { ...base, clientSecret: `v0-${i}` }),
      ),
    );
    const expected = new Map(created.map((p, i) => [p.secureConfigId, `v0-${i}`]));

    // New configuration: k2 active, k1 still readable. Old replicas (k1 active) keep writing for a while.
    const rotated = services(dataSource, `k1:${K1},k2:${K2}`, 'k2');
    const oldWriter = services(dataSource, `k1:${K1}`);
    expect(await rotated.secrets.countDue()).toBeGreaterThanOrEqual(count);

    const writes = (async () => {
      for (let round = 1; round <= 3; round++) {
        await Promise.all(
          created.map(async (p, i) => {
            if ((i + round) % 3 !== 0) return;
            const writer = i % 2 === 0 ? rotated : oldWriter;
            await writer.providers.update(org, p.id, { clientSecret: `v${round}-${i}` });
            expected.set(p.secureConfigId, `v${round}-${i}`);
          }),
        );
      }
    })();
    const pass = async (batchSize: number) => {
      let afterId: string | undefined;
      let failed = 0;
      for (;;) {
        const batch = await rotated.secrets.rewrapBatch(batchSize, afterId);
        failed += batch.failed;
        if (!batch.lastId) return failed;
        afterId = batch.lastId;
      }
    };
    await Promise.all([writes, pass(4)]);
    // Rows the old replicas wrote under k1 during the pass: another pass (what the job's retry does).
    // The rows the tamper test broke stay as they are: counted, never re-encrypted.
    const broken = await pass(50);
    expect(broken).toBe(2);
    expect(await rotated.secrets.countDue()).toBe(broken);
    const newKeyOnly = services(dataSource, `k2:${K2}`);
    for (const [id, secret] of expected) expect(await newKeyOnly.secrets.reveal(org, id)).toBe(secret);
  });
});
