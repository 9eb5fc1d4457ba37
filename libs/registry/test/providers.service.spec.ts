import { DataSource } from 'typeorm';
import { domainDataSourceOptions, migrateDomainSchema } from '@broker/service-runtime';
import { createTestDatabase, TestDatabase } from '@broker/testing';
import { ProviderEntity, ProvidersService, REGISTRY_SCHEMA } from '../src';

describe('ProvidersService on PostgreSQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let service: ProvidersService;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase('registry');
    dataSource = await new DataSource(domainDataSourceOptions(db.url, REGISTRY_SCHEMA, 'registry-test')).initialize();
    await migrateDomainSchema(dataSource, REGISTRY_SCHEMA.schema);
    const repo = dataSource.getRepository(ProviderEntity);
    service = new ProvidersService(repo);
    const rows = [
      { orgId: 'org-a', name: 'GitHub', type: 'github', host: 'github.com', createdAt: new Date('2026-01-01T00:00:00Z') },
      { orgId: 'org-a', name: 'GHE', type: 'github', host: 'git.example.com', createdAt: new Date('2026-01-02T00:00:00Z') },
      { orgId: 'org-a', name: 'Box', type: 'box', host: 'box.com', createdAt: new Date('2026-01-03T00:00:00Z') },
      { orgId: 'org-b', name: 'Other org', type: 'github', host: 'github.com', createdAt: new Date('2026-01-04T00:00:00Z') },
    ] as const;
    for (const row of rows) {
      const saved = await repo.save(repo.create({ ...row, clientId: `${row.name}-client` }));
      ids[row.name] = saved.id;
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const names = async (orgId: string, query: Parameters<ProvidersService['list']>[1]) =>
    (await service.list(orgId, query)).map((p) => p.name);

  it('lists only the org’s providers, newest first by default', async () => {
    expect(await names('org-a', {})).toEqual(['Box', 'GHE', 'GitHub']);
    expect(await names('org-b', {})).toEqual(['Other org']);
    expect(await names('org-c', {})).toEqual([]);
  });

  it('orders oldest first with orderBy=createdAt', async () => {
    expect(await names('org-a', { orderBy: 'createdAt' })).toEqual(['GitHub', 'GHE', 'Box']);
  });

  it('filters by ids, types and host, each as any-of, combined as all-of', async () => {
    expect(await names('org-a', { ids: [ids['GitHub'], ids['Box']] })).toEqual(['Box', 'GitHub']);
    expect(await names('org-a', { ids: [ids['Other org']] })).toEqual([]);
    expect(await names('org-a', { ids: ['not-a-uuid'] })).toEqual([]);
    expect(await names('org-a', { types: ['github'] })).toEqual(['GHE', 'GitHub']);
    expect(await names('org-a', { host: ['github.com', 'box.com'] })).toEqual(['Box', 'GitHub']);
    expect(await names('org-a', { types: ['github'], host: ['git.example.com'] })).toEqual(['GHE']);
  });

  it('returns the public shape with ISO dates and no secret', async () => {
    const [box] = await service.list('org-a', { types: ['box'] });
    expect(box).toEqual({
      id: ids['Box'],
      orgId: 'org-a',
      name: 'Box',
      type: 'box',
      status: 'active',
      clientId: 'Box-client',
      customScopes: [],
      skipConsent: false,
      secureConfigId: '',
      metadata: {},
      createdAt: '2026-01-03T00:00:00.000Z',
      updatedAt: expect.any(String),
    });
  });
});
