import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** One operation of a reference API document, as transcribed into `e2e/fixtures/seed-*-api.json`. */
export interface SeedOperation {
  title: string;
  method: string;
  path: string;
  /** Every status the seed documents for the operation, and the schema of its body (`None`: no body). */
  responses: { status: number; schema: string }[];
}

/** A status we answer that the seed does not document, written down in docs/reference-differences.md. */
export interface SeedExtension {
  method: string;
  path: string;
  status: number;
  schema: string;
  why: string;
}

export interface SeedFixture {
  source: string;
  operations: SeedOperation[];
  schemas: Record<string, Record<string, unknown>>;
  extensions?: SeedExtension[];
}

export function loadSeed(file: string): SeedFixture {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', file), 'utf8')) as SeedFixture;
}

/** The dotted paths under `prefix.` of a list (arrays pass their prefix on to their items). */
const under = (paths: string[], key: string) =>
  paths.filter((p) => p.startsWith(`${key}.`)).map((p) => p.slice(key.length + 1));

/**
 * The seeds' schemas declare no required fields and allow extra ones; conformance here is stricter:
 * every documented field is present and no undocumented one appears. `nullable` lists the fields
 * sent as null when there is no value (dotted paths), `optional` the few that may be absent.
 */
export function strict(
  schema: Record<string, unknown>,
  nullable: string[] = [],
  optional: string[] = [],
): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...schema };
  if (copy['properties'] && typeof copy['properties'] === 'object') {
    const props = copy['properties'] as Record<string, Record<string, unknown>>;
    copy['properties'] = Object.fromEntries(
      Object.entries(props).map(([k, v]) => {
        const child = strict(v, under(nullable, k), under(optional, k));
        return [k, nullable.includes(k) ? { anyOf: [child, { type: 'null' }] } : child];
      }),
    );
    copy['required'] = Object.keys(props).filter((k) => !optional.includes(k));
    if (copy['additionalProperties'] === undefined) copy['additionalProperties'] = false;
  }
  if (copy['items'] && typeof copy['items'] === 'object')
    copy['items'] = strict(copy['items'] as Record<string, unknown>, nullable, optional);
  return copy;
}

export interface CheckerOptions {
  nullable?: Record<string, string[]>;
  optional?: Record<string, string[]>;
  /** Per operation (`METHOD path`), schema name → fields that may be absent there (a written-down departure). */
  optionalIn?: Record<string, Record<string, string[]>>;
  /** A change applied to every schema before it is made strict (e.g. the provider types this product adds). */
  transform?: (schema: unknown) => unknown;
}

/**
 * Checks answers against a seed: the status must be documented for the operation (or a written-down
 * extension) and the body must match that status's schema, strictly. Records which (operation,
 * status) pairs were walked, so a suite can prove it walked every documented one.
 */
export class SeedChecker {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly walked = new Set<string>();

  constructor(
    readonly seed: SeedFixture,
    private readonly options: CheckerOptions = {},
  ) {
    addFormats(this.ajv);
  }

  operation(method: string, template: string): SeedOperation {
    const op = this.seed.operations.find(
      (o) => o.method === method && o.path.toLowerCase() === template.toLowerCase(),
    );
    if (!op) throw new Error(`${this.seed.source} has no operation ${method} ${template}`);
    return op;
  }

  validator(name: string, operation?: string): ValidateFunction {
    const extraOptional = (operation && this.options.optionalIn?.[operation]?.[name]) || [];
    const key = `${name}\u0000${extraOptional.join(',')}`;
    let v = this.validators.get(key);
    if (!v) {
      const schema = this.seed.schemas[name];
      if (!schema) throw new Error(`${this.seed.source} has no schema ${name}`);
      const shaped = (this.options.transform ? this.options.transform(schema) : schema) as Record<
        string,
        unknown
      >;
      v = this.ajv.compile(
        strict(shaped, this.options.nullable?.[name] ?? [], [
          ...(this.options.optional?.[name] ?? []),
          ...extraOptional,
        ]),
      );
      this.validators.set(key, v);
    }
    return v;
  }

  /** Validates a value against one schema of the seed (as answered by `operation`); Ajv's errors, or null when it conforms. */
  errors(schema: string, value: unknown, operation?: string): unknown {
    const validate = this.validator(schema, operation);
    return validate(value) ? null : validate.errors;
  }

  /** Checks one answer of `METHOD template`: a documented status (or extension) and a body of its schema. */
  async conform(method: string, template: string, res: Response): Promise<unknown> {
    const op = this.operation(method, template);
    const documented =
      op.responses.find((r) => r.status === res.status) ??
      this.seed.extensions?.find(
        (e) =>
          e.method === method && e.path.toLowerCase() === template.toLowerCase() && e.status === res.status,
      );
    const text = await res.text();
    expect({ op: `${method} ${template}`, status: res.status, documented: Boolean(documented) }).toEqual({
      op: `${method} ${template}`,
      status: res.status,
      documented: true,
    });
    this.walked.add(`${op.method} ${op.path} ${res.status}`);
    if (documented?.schema === 'None') expect(text).toBe('');
    let body: unknown;
    if (documented?.schema && documented.schema !== 'None') {
      body = JSON.parse(text) as unknown;
      const errors = this.errors(documented.schema, body, `${op.method} ${op.path}`);
      expect({ op: `${method} ${template} ${res.status}`, errors }).toEqual({
        op: `${method} ${template} ${res.status}`,
        errors: null,
      });
    }
    return body;
  }

  /** The documented (operation, status) pairs not walked yet, minus those `unreachable` explains. */
  notWalked(unreachable: Record<string, string> = {}): string[] {
    const all = this.seed.operations.flatMap((o) =>
      o.responses.map((r) => `${o.method} ${o.path} ${r.status}`),
    );
    return all.filter((k) => !this.walked.has(k) && !unreachable[k]);
  }
}
