import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathShape } from '../src/openapi/api-docs';
import { gatewayOpenApiJson } from '../src/openapi/openapi-json';

const REPO = join(__dirname, '..', '..', '..');

interface SeedFixture {
  operations: { method: string; path: string; responses: { status: number; schema: string }[] }[];
  schemas: Record<string, Record<string, unknown>>;
  extensions?: { method: string; path: string; status: number; schema: string }[];
}
type Schema = {
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
};
type Operation = {
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  tags?: string[];
};
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const seeds = ['000', '001', '002', '003'].map((n) => ({
  n,
  ...(JSON.parse(readFileSync(join(REPO, 'e2e', 'fixtures', `seed-${n}-api.json`), 'utf8')) as SeedFixture),
}));
const catalogue = (
  JSON.parse(readFileSync(join(REPO, 'e2e', 'fixtures', 'gateway-routes.json'), 'utf8')) as {
    routes: { method: string; path: string }[];
  }
).routes;

/** Every field name of a schema as a dotted path (array items pass their prefix on), following $refs into `components`. */
function fieldNames(
  schema: Schema | undefined,
  components: Record<string, Schema>,
  prefix = '',
  depth = 0,
): string[] {
  if (!schema || depth > 12) return [];
  if (schema.$ref)
    return fieldNames(
      components[schema.$ref.replace('#/components/schemas/', '')],
      components,
      prefix,
      depth + 1,
    );
  const nested = [...(schema.allOf ?? []), ...(schema.anyOf ?? [])].flatMap((s) =>
    fieldNames(s, components, prefix, depth + 1),
  );
  const own = Object.entries(schema.properties ?? {}).flatMap(([name, child]) => [
    `${prefix}${name}`,
    ...fieldNames(child, components, `${prefix}${name}.`, depth + 1),
  ]);
  return [...new Set([...own, ...nested, ...fieldNames(schema.items, components, prefix, depth + 1)])].sort();
}

describe('the gateway’s OpenAPI document (docs/openapi.json, served at /docs)', () => {
  let generated: string;
  let doc: OpenApi;
  const operation = (method: string, path: string): Operation | undefined => {
    const shape = pathShape(path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'));
    const found = Object.entries(doc.paths).find(([p]) => pathShape(p) === shape);
    return found?.[1][method.toLowerCase()];
  };

  beforeAll(async () => {
    generated = await gatewayOpenApiJson();
    doc = JSON.parse(generated) as OpenApi;
  }, 60_000);

  it('is committed as generated: run `npm run openapi` after changing a route or a documented response', () => {
    const committed = readFileSync(join(REPO, 'docs', 'openapi.json'), 'utf8');
    expect(committed === generated).toBe(true);
  });

  it('lists every route of the gateway (all four API surfaces), each tagged with its surface', () => {
    const missing = catalogue.filter((r) => !operation(r.method, r.path)).map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    const untagged = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.entries(item)
        .filter(([, op]) => !op.tags?.length)
        .map(([m]) => `${m} ${p}`),
    );
    expect(untagged).toEqual([]);
  });

  it.each(seeds.map((s) => [s.n, s] as const))(
    'has every operation of reference document %s, with its statuses and field names',
    (_n, seed) => {
      const problems: string[] = [];
      const documented = [
        ...seed.operations.flatMap((o) => o.responses.map((r) => ({ ...r, method: o.method, path: o.path }))),
        ...(seed.extensions ?? []),
      ];
      for (const r of documented) {
        const op = operation(r.method, r.path);
        if (!op) {
          problems.push(`${r.method} ${r.path}: missing`);
          continue;
        }
        const response = op.responses[String(r.status)];
        if (!response) {
          problems.push(`${r.method} ${r.path}: no ${r.status}`);
          continue;
        }
        const ours = fieldNames(response.content?.['application/json']?.schema, doc.components.schemas);
        const theirs =
          r.schema === 'None'
            ? []
            : fieldNames(seed.schemas[r.schema] as Schema, seed.schemas as Record<string, Schema>);
        if (JSON.stringify(ours) !== JSON.stringify(theirs))
          problems.push(
            `${r.method} ${r.path} ${r.status}: fields ${JSON.stringify(ours)} ≠ ${JSON.stringify(theirs)}`,
          );
      }
      expect(problems).toEqual([]);
    },
  );
});
