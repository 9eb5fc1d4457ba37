import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  diffAgainstSeeds,
  loadSeedFixtures,
  pathShape,
  SEED_API_FILE,
  seedApi,
  seedApiJson,
  type OpenApiDocument,
  type SeedFixture,
} from '@broker/testing';
import { gatewayOpenApiJson } from '../src/openapi/openapi-json';

const REPO = join(__dirname, '..', '..', '..');
const catalogue = (
  JSON.parse(readFileSync(join(REPO, 'e2e', 'fixtures', 'gateway-routes.json'), 'utf8')) as {
    routes: { method: string; path: string }[];
  }
).routes;
const fixtures: Record<string, SeedFixture> = loadSeedFixtures();
const RUN = 'run `npm run openapi` and commit the result';

describe('the gateway’s OpenAPI document (docs/openapi.json, served at /docs-json)', () => {
  let generated: string;
  let doc: OpenApiDocument & { paths: Record<string, Record<string, { tags?: string[] }>> };

  beforeAll(async () => {
    generated = await gatewayOpenApiJson();
    doc = JSON.parse(generated) as typeof doc;
  }, 60_000);

  it('has its seed schemas generated from e2e/fixtures/seed-*-api.json as committed', () => {
    const fresh = seedApiJson(seedApi(fixtures));
    const committed = readFileSync(SEED_API_FILE, 'utf8');
    expect(committed === fresh ? 'fresh' : `${SEED_API_FILE} is stale: ${RUN}`).toBe('fresh');
  });

  it('is committed as generated', () => {
    const committed = readFileSync(join(REPO, 'docs', 'openapi.json'), 'utf8');
    expect(committed === generated ? 'fresh' : `docs/openapi.json is stale: ${RUN}`).toBe('fresh');
  });

  it('lists every route of the gateway (all four API surfaces), each tagged with its surface', () => {
    const shapes = new Set(Object.keys(doc.paths).map(pathShape));
    const missing = catalogue
      .filter((r) => !shapes.has(pathShape(r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'))))
      .map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    const untagged = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.entries(item)
        .filter(([, op]) => !op.tags?.length)
        .map(([m]) => `${m} ${p}`),
    );
    expect(untagged).toEqual([]);
  });

  it('agrees with the seeds operation by operation: statuses, and every body’s fields, types, enums and required-ness', () => {
    expect(diffAgainstSeeds(doc, fixtures).join('\n')).toBe('');
  });

  it('names every component once: no schema is another’s copy, and nested copies are references', () => {
    const schemas = doc.components?.schemas ?? {};
    const seen = new Map<string, string[]>();
    for (const [name, schema] of Object.entries(schemas)) {
      const key = JSON.stringify(schema);
      seen.set(key, [...(seen.get(key) ?? []), name]);
    }
    const copies = [...seen.values()].filter((names) => names.length > 1);
    expect(copies).toEqual([]);
  });
});
