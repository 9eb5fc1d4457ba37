// Compares an OpenAPI document (the one the gateway serves at /docs-json) with the reference API
// documents as the repo transcribes them (e2e/fixtures/seed-*-api.json), operation by operation:
// every seed operation present; its statuses, and each body's fields (names, types, formats, enums,
// required-ness) the same; request bodies and query names where the seed gives them. Each difference is one
// readable line; no line means they agree. Used by apps/gateway/test/openapi.spec.ts and the e2e
// suite that reads the running gateway's /docs-json.
import type { JsonSchema, SeedFixture } from './seed-components';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  parameters?: { name: string; in: string }[];
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** `/a/{x}/b/` → `/a/{}/b`: paths compared whatever a parameter is called and with or without a trailing slash. */
export const pathShape = (path: string) => path.replace(/\{[^}]+\}/g, '{}').replace(/\/+$/, '') || '/';

const isObject = (v: unknown): v is JsonSchema => !!v && typeof v === 'object' && !Array.isArray(v);

/** What a field is, in one comparable string: type (alternatives joined), format, enum or const, required or not. */
function describe(schema: JsonSchema, required: boolean, lookup: (s: JsonSchema) => JsonSchema): string {
  const alternatives = ((schema['anyOf'] ?? schema['oneOf']) as JsonSchema[] | undefined)?.map(lookup) ?? [
    schema,
  ];
  const types = alternatives.map((s) => String(s['type'] ?? (s['properties'] ? 'object' : 'any'))).sort();
  const parts = [[...new Set(types)].join('|')];
  for (const s of alternatives) {
    if (s['format']) parts.push(`format ${String(s['format'])}`);
    if (Array.isArray(s['enum']))
      parts.push(`enum [${[...(s['enum'] as unknown[])].map(String).sort().join(', ')}]`);
    if (s['const'] !== undefined) parts.push(`const ${JSON.stringify(s['const'])}`);
  }
  parts.push(required ? 'required' : 'optional');
  return parts.join(', ');
}

/** Every field of a body as `dotted.path` → description (`[]` for array items, `{}` for map values), through `$ref`s. */
export function fields(
  root: JsonSchema | undefined,
  components: Record<string, JsonSchema>,
): Map<string, string> {
  const out = new Map<string, string>();
  const lookup = (s: JsonSchema, depth = 0): JsonSchema => {
    const ref = s['$ref'];
    if (typeof ref !== 'string' || depth > 20) return s;
    return lookup(components[ref.replace('#/components/schemas/', '')] ?? {}, depth + 1);
  };
  const walk = (input: JsonSchema, prefix: string, depth: number) => {
    if (depth > 20) return;
    const schema = lookup(input);
    for (const alt of (schema['anyOf'] ?? schema['oneOf'] ?? schema['allOf'] ?? []) as JsonSchema[])
      walk(alt, prefix, depth + 1);
    const required = new Set((schema['required'] as string[] | undefined) ?? []);
    for (const [name, child] of Object.entries(isObject(schema['properties']) ? schema['properties'] : {})) {
      const field = lookup(child as JsonSchema);
      out.set(
        `${prefix}${name}`,
        describe(field, required.has(name), (s) => lookup(s)),
      );
      walk(field, `${prefix}${name}.`, depth + 1);
    }
    if (isObject(schema['items'])) walk(schema['items'], `${prefix}[].`, depth + 1);
    if (isObject(schema['additionalProperties']))
      walk(schema['additionalProperties'], `${prefix}{}.`, depth + 1);
  };
  if (root) walk(root, '', 0);
  return out;
}

/** The lines that differ between two field maps: `+` only in the document, `-` only in the seed, `~` both but different. */
function fieldDiff(
  ours: Map<string, string>,
  theirs: Map<string, string>,
  seed: string,
  keep: (field: string) => boolean = () => true,
): string[] {
  const lines: string[] = [];
  for (const name of [...new Set([...ours.keys(), ...theirs.keys()])].sort().filter(keep)) {
    const a = ours.get(name);
    const b = theirs.get(name);
    if (a === b) continue;
    if (b === undefined) lines.push(`    + ${name} (${a}): in the document, not in seed ${seed}`);
    else if (a === undefined) lines.push(`    - ${name} (${b}): in seed ${seed}, not in the document`);
    else lines.push(`    ~ ${name}: the document says ${a}; seed ${seed} says ${b}`);
  }
  return lines;
}

const jsonSchemaOf = (content: Record<string, { schema?: JsonSchema }> | undefined) =>
  content ? Object.values(content)[0]?.schema : undefined;

/** One seed operation and the document's operation of the same method and path. */
interface Compared {
  op: SeedFixture['operations'][number];
  ours: Operation;
  fixture: SeedFixture;
  seed: string;
  components: Record<string, JsonSchema>;
}

/** The response problems of one operation: statuses on one side only, and each body's field differences. */
function responseProblems({ op, ours, fixture, seed, components }: Compared) {
  const name = `${op.method} ${op.path}`;
  const problems: string[] = [];
  const documented = [
    ...op.responses,
    ...(fixture.extensions ?? []).filter((e) => e.method === op.method && e.path === op.path),
  ];
  const theirStatuses = new Set(documented.map((r) => String(r.status)));
  for (const status of Object.keys(ours.responses ?? {}).filter((s) => !theirStatuses.has(s)))
    problems.push(`${name}: the document answers ${status}, seed ${seed} does not`);
  for (const r of documented) {
    const response = ours.responses?.[String(r.status)];
    if (!response) {
      problems.push(`${name}: seed ${seed} answers ${r.status}, the document does not`);
      continue;
    }
    const theirs = r.schema === 'None' ? undefined : fixture.schemas[r.schema];
    if (r.schema !== 'None' && !theirs)
      problems.push(`${name} ${r.status}: seed ${seed} has no schema ${r.schema}`);
    const lines = fieldDiff(
      fields(jsonSchemaOf(response.content), components),
      fields(theirs, fixture.schemas),
      seed,
    );
    if (r.schema === 'None' && response.content) lines.unshift(`    + a body: seed ${seed} answers none`);
    if (r.schema !== 'None' && !response.content)
      lines.unshift(`    - the body: seed ${seed} answers ${r.schema}`);
    if (lines.length) problems.push(`${name} ${r.status}:\n${lines.join('\n')}`);
  }
  return problems;
}

/**
 * The request problems of one operation: its body's fields against the seed's request schema (or,
 * where the seed names only the fields, the names), and its query's names. A field the fixture
 * lists under `requestExtensions` (accepted beyond the seed, with why) may differ.
 */
function requestProblems({ op, ours, fixture, seed, components }: Compared) {
  const name = `${op.method} ${op.path}`;
  const allowed = new Set(
    (fixture.requestExtensions ?? [])
      .filter((e) => e.method === op.method && e.path === op.path)
      .map((e) => e.field),
  );
  const keep = (field: string) =>
    !field.split('.').some((_, i, parts) => allowed.has(parts.slice(0, i + 1).join('.')));
  const problems: string[] = [];
  if (op.request || op.body) {
    const body = jsonSchemaOf(ours.requestBody?.content);
    let ourFields = fields(body, components);
    let theirFields = fields(op.request ? fixture.schemas[op.request] : undefined, fixture.schemas);
    if (!op.request) {
      // The seed names the fields only: compare the names of the top level.
      ourFields = new Map([...ourFields.keys()].filter((k) => !k.includes('.')).map((k) => [k, 'a field']));
      theirFields = new Map((op.body ?? []).map((k) => [k, 'a field']));
    }
    const lines = body
      ? fieldDiff(ourFields, theirFields, seed, keep)
      : [`    - the request body: seed ${seed} takes ${op.request ?? (op.body ?? []).join(', ')}`];
    if (lines.length) problems.push(`${name} request body:\n${lines.join('\n')}`);
  }
  if (op.query) {
    const ourQuery = new Map(
      (ours.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, 'a parameter']),
    );
    const lines = fieldDiff(ourQuery, new Map(op.query.map((q) => [q, 'a parameter'])), seed, keep);
    if (lines.length) problems.push(`${name} query:\n${lines.join('\n')}`);
  }
  return problems;
}

/** Every difference between the document and the seeds, one readable line each (an empty list: they agree). */
export function diffAgainstSeeds(doc: OpenApiDocument, fixtures: Record<string, SeedFixture>): string[] {
  const components = doc.components?.schemas ?? {};
  const byShape = new Map<string, Record<string, Operation>>(
    Object.entries(doc.paths).map(([path, item]) => [pathShape(path), item]),
  );
  const problems: string[] = [];
  for (const [seed, fixture] of Object.entries(fixtures)) {
    for (const op of fixture.operations) {
      const ours = byShape.get(pathShape(op.path))?.[op.method.toLowerCase()];
      if (!ours) problems.push(`${op.method} ${op.path}: in seed ${seed}, not in the document`);
      else
        problems.push(
          ...requestProblems({ op, ours, fixture, seed, components }),
          ...responseProblems({ op, ours, fixture, seed, components }),
        );
    }
  }
  return problems;
}
