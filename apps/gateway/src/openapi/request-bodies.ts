import { z } from 'zod';
import {
  createOAuthSetupSchema,
  listOAuthSetupsQuerySchema,
  updateOAuthSetupSchema,
} from '@broker/contracts';
import { callbackBody } from '../external-oauth/authorized-providers.controller';
import { createSchema, updateSchema } from '../external-oauth/provider-bodies';

type JsonSchema = Record<string, unknown>;

/**
 * The request bodies and queries the gateway checks with zod, described from those very schemas
 * (`z.toJSONSchema`, the input side: what a caller sends), so the document says what the code
 * accepts. Keyed by `method pathShape`; each body becomes a named component.
 */
const BODIES: Record<string, { name: string; schema: z.ZodType }> = {
  'post /api/v2/externalOAuth/providers': { name: 'CreateProviderBody', schema: createSchema },
  'patch /api/v2/externalOAuth/providers/{}': { name: 'UpdateProviderBody', schema: updateSchema },
  'post /api/v2/externalOAuth/providers/callback': { name: 'OAuthCallbackBody', schema: callbackBody },
  'post /api/v2/provider-deployments/{}/oauth-setups': {
    name: 'CreateOAuthSetupBody',
    schema: createOAuthSetupSchema,
  },
  'patch /api/v2/provider-deployments/{}/oauth-setups/{}': {
    name: 'UpdateOAuthSetupBody',
    schema: updateOAuthSetupSchema,
  },
};
const QUERIES: Record<string, z.ZodType> = {
  'get /api/v2/provider-deployments/{}/oauth-setups': listOAuthSetupsQuerySchema,
};

function jsonSchema(schema: z.ZodType): JsonSchema {
  const described = z.toJSONSchema(schema, {
    io: 'input',
    target: 'openapi-3.0',
    unrepresentable: 'any',
  }) as JsonSchema;
  delete described['$schema']; // a component is not a document of its own
  return described;
}

/** The named body schema the code parses for an operation, if it parses one with zod. */
export function codeRequestBody(key: string): { name: string; schema: JsonSchema } | undefined {
  const body = BODIES[key];
  return body && { name: body.name, schema: jsonSchema(body.schema) };
}

/** The query parameters the code parses for an operation, as OpenAPI parameters. */
export function codeQueryParameters(
  key: string,
): { name: string; in: 'query'; required: boolean; schema: JsonSchema }[] {
  const query = QUERIES[key];
  if (!query) return [];
  const schema = jsonSchema(query);
  const required = new Set((schema['required'] as string[] | undefined) ?? []);
  return Object.entries((schema['properties'] ?? {}) as Record<string, JsonSchema>).map(([name, s]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema: s,
  }));
}
