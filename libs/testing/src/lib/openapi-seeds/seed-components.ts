// The response schemas of the gateway's OpenAPI document, derived from the repo's transcription of
// the four reference API documents (e2e/fixtures/seed-*-api.json, which the seed conformance suites
// also validate the gateway's real answers against): one component per shape, nested copies of a
// shape replaced by a `$ref` to it. `npm run openapi` writes the result to
// apps/gateway/src/openapi/seed-api.generated.json; apps/gateway/test/openapi.spec.ts fails when
// that file differs from what this derivation gives.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type JsonSchema = { [key: string]: unknown };

/**
 * A seed as the fixtures transcribe it: its operations (with the schema of the request body,
 * `request`, or only its field names, `body`, and the query's names), its schemas, the statuses we
 * add (`extensions`) and the request fields we accept beyond the seed's (`requestExtensions`).
 */
export interface SeedFixture {
  operations: {
    title: string;
    method: string;
    path: string;
    request?: string;
    body?: string[];
    query?: string[];
    responses: { status: number; schema: string }[];
  }[];
  schemas: Record<string, JsonSchema>;
  extensions?: { method: string; path: string; status: number; schema: string }[];
  requestExtensions?: { method: string; path: string; field: string; why: string }[];
}

export interface SeedApi {
  $comment: string;
  operations: {
    seed: string;
    method: string;
    path: string;
    summary: string;
    request?: string;
    responses: { status: number; schema: string }[];
  }[];
  schemas: Record<string, JsonSchema>;
}

export const SEEDS = ['000', '001', '002', '003'] as const;
const REPO = join(__dirname, '..', '..', '..', '..', '..');
export const SEED_API_FILE = join(REPO, 'apps', 'gateway', 'src', 'openapi', 'seed-api.generated.json');

export function loadSeedFixtures(): Record<string, SeedFixture> {
  return Object.fromEntries(
    SEEDS.map((n) => [
      n,
      JSON.parse(readFileSync(join(REPO, 'e2e', 'fixtures', `seed-${n}-api.json`), 'utf8')) as SeedFixture,
    ]),
  );
}

/** JSON with every object's keys sorted: two schemas are the same shape when these are equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as JsonSchema)[k]]),
        )
      : v,
  );
}

const isObject = (v: unknown): v is JsonSchema => !!v && typeof v === 'object' && !Array.isArray(v);
/** A shape worth a component of its own: an object with fields, or an enumeration. */
const isShape = (s: JsonSchema) => isObject(s['properties']) || Array.isArray(s['enum']);

/** Calls `visit` on every schema nested in `schema` (fields, items, map values, alternatives) with its path. */
function mapChildren(schema: JsonSchema, visit: (child: JsonSchema, path: string) => JsonSchema): JsonSchema {
  const out: JsonSchema = { ...schema };
  if (isObject(schema['properties']))
    out['properties'] = Object.fromEntries(
      Object.entries(schema['properties']).map(([k, v]) => [k, isObject(v) ? visit(v, k) : v]),
    );
  for (const key of ['items', 'additionalProperties'] as const)
    if (isObject(schema[key])) out[key] = visit(schema[key], key === 'items' ? 'item' : 'value');
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const)
    if (Array.isArray(schema[key]))
      out[key] = (schema[key] as unknown[]).map((v, i) => (isObject(v) ? visit(v, `${key}${i}`) : v));
  return out;
}

/** Every nested shape (not the roots themselves) of the schemas, by canonical form, with where it first stands. */
function nestedShapes(schemas: Record<string, JsonSchema>): Map<string, { count: number; name: string }> {
  const found = new Map<string, { count: number; name: string }>();
  const walk = (schema: JsonSchema, name: string) =>
    mapChildren(schema, (child, path) => {
      const at = `${name}.${path}`;
      if (isShape(child)) {
        const key = canonical(child);
        const seen = found.get(key);
        found.set(key, { count: (seen?.count ?? 0) + 1, name: seen?.name ?? at });
      }
      walk(child, at);
      return child;
    });
  for (const [name, schema] of Object.entries(schemas)) walk(schema, name);
  return found;
}

/** Replaces, outermost first, every nested copy of a named shape with a `$ref`; `names` maps canonical form → name. */
function referTo(
  schemas: Record<string, JsonSchema>,
  names: Map<string, string>,
): Record<string, JsonSchema> {
  const replace = (schema: JsonSchema): JsonSchema =>
    mapChildren(schema, (child) => {
      const name = isShape(child) ? names.get(canonical(child)) : undefined;
      return name ? { $ref: `#/components/schemas/${name}` } : replace(child);
    });
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, replace(schema)]));
}

/**
 * One definition per shape: nested copies of a named schema become `$ref`s (repeated until nothing
 * changes, since a replacement inside one schema can make two others equal); then a nested shape
 * that still stands in two places gets a component of its own, named after where it first stands.
 */
export function deduplicate(input: Record<string, JsonSchema>): Record<string, JsonSchema> {
  let schemas = input;
  for (;;) {
    const named = new Map(Object.entries(schemas).map(([name, s]) => [canonical(s), name]));
    const next = referTo(schemas, named);
    if (canonical(next) !== canonical(schemas)) {
      schemas = next;
      continue;
    }
    const repeated = [...nestedShapes(schemas)].filter(([, s]) => s.count > 1);
    if (repeated.length === 0) return schemas;
    const [key, { name }] = repeated[0];
    schemas = { ...schemas, [name]: JSON.parse(key) as JsonSchema };
  }
}

/** The operations (with the statuses we add) and the deduplicated schemas of the four seeds. */
export function seedApi(fixtures: Record<string, SeedFixture>): SeedApi {
  const operations: SeedApi['operations'] = [];
  let schemas: Record<string, JsonSchema> = {};
  for (const [seed, fixture] of Object.entries(fixtures)) {
    for (const op of fixture.operations) {
      const added = (fixture.extensions ?? [])
        .filter((e) => e.method === op.method && e.path === op.path)
        .map(({ status, schema }) => ({ status, schema }));
      operations.push({
        seed,
        method: op.method,
        path: op.path,
        summary: op.title,
        ...(op.request ? { request: op.request } : {}),
        responses: [...op.responses, ...added],
      });
    }
    schemas = { ...schemas, ...fixture.schemas };
  }
  return {
    $comment:
      'Generated by tools/openapi/seed-api.ts from e2e/fixtures/seed-*-api.json (npm run openapi). Do not edit.',
    operations,
    schemas: deduplicate(schemas),
  };
}

export const seedApiJson = (api: SeedApi) => `${JSON.stringify(api, null, 2)}\n`;
