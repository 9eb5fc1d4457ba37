import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { pathShape } from './path-shape';
import { codeQueryParameters, codeRequestBody } from './request-bodies';
import seedApi from './seed-api.generated.json';

/** A reference operation as seed-api.generated.json lists it. */
interface SeedOperation {
  summary: string;
  request?: string;
  responses: { status: number; schema: string }[];
}

/** Where the gateway serves its API documentation: the UI at `/docs`, the document at `/docs-json`. */
export const API_DOCS_PATH = 'docs';

/** The four API surfaces (and the rest of the gateway), by path prefix: the document's tags. */
const SURFACES: { prefix: string; tag: string; description: string }[] = [
  {
    prefix: '/api/v2/externalOAuth',
    tag: 'OAuth providers',
    description: 'Providers, consent and authorized providers (reference document 000).',
  },
  {
    prefix: '/api/v2/external-auth',
    tag: 'External auth',
    description: 'Per-user external auth links and the device flow (reference document 001).',
  },
  {
    prefix: '/api/v2/provider-deployments',
    tag: 'OAuth setups',
    description: 'Provider OAuth setups with hosted pages (reference document 002).',
  },
  {
    prefix: '/api/v1/oauth',
    tag: 'Broker OAuth server',
    description: "The broker's own OAuth endpoints and admin API (reference document 003).",
  },
  { prefix: '/.well-known', tag: 'Discovery', description: 'RFC 8414 and RFC 9728 metadata, JWKS.' },
  { prefix: '/', tag: 'Hosted pages', description: 'Pages a person opens in a browser (consent, setups).' },
];

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * The gateway's OpenAPI document: every route of its controllers (scanned by @nestjs/swagger,
 * whichever HTTP adapter the app runs on), tagged by API surface, with the response bodies the
 * reference documents define for their operations. No server URL: the document is the same for
 * every deployment (and so can be committed: docs/openapi.json, `npm run openapi`).
 */
export function describeGatewayApi(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('OAuth token broker: gateway')
    .setDescription(
      'The public HTTP surfaces of the broker. Paths, fields and status codes follow the four reference API documents; differences are listed in docs/reference-differences.md.',
    )
    .setVersion('1')
    .addBearerAuth()
    .addBasicAuth();
  for (const surface of SURFACES) builder.addTag(surface.tag, surface.description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (controller, method) => `${controller}_${method}`,
  });
  return withDocumentedBodies(document);
}

type Schemas = NonNullable<NonNullable<OpenAPIObject['components']>['schemas']>;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
/** The token endpoint takes its body as a form (RFC 6749) or as JSON (seed 003). */
const FORM_TOO = new Set(['post /api/v1/oauth/token']);

/**
 * Tags every operation by surface; adds the request bodies and queries the code parses with zod
 * (request-bodies.ts), and the statuses and response bodies of the reference operations
 * (seed-api.generated.json, from the seed fixtures; a seed request body the code parses by hand,
 * seed 003's, is described by the seed's schema).
 */
function withDocumentedBodies(document: OpenAPIObject): OpenAPIObject {
  const schemas: Schemas = { ...document.components?.schemas, ...(seedApi.schemas as Schemas) };
  const documented = new Map<string, SeedOperation>(
    seedApi.operations.map((op) => [`${op.method.toLowerCase()} ${pathShape(op.path)}`, op]),
  );
  for (const [path, item] of Object.entries(document.paths)) {
    const tag =
      SURFACES.find(
        (s) => path === s.prefix || path.startsWith(s.prefix.endsWith('/') ? s.prefix : `${s.prefix}/`),
      )?.tag ?? 'Hosted pages';
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operation.tags = [tag];
      const key = `${method} ${pathShape(path)}`;
      const op = documented.get(key);
      const body = codeRequestBody(key);
      if (body) schemas[body.name] = body.schema;
      const bodyName = body?.name ?? op?.request;
      if (bodyName) {
        const types = FORM_TOO.has(key)
          ? ['application/json', 'application/x-www-form-urlencoded']
          : ['application/json'];
        operation.requestBody = {
          required: true,
          content: Object.fromEntries(types.map((t) => [t, { schema: ref(bodyName) }])),
        };
      }
      const query = codeQueryParameters(key);
      if (query.length) operation.parameters = [...(operation.parameters ?? []), ...query];
      if (!op) continue;
      if (op.summary) operation.summary = op.summary;
      // The seed's statuses replace the default 200/201 @nestjs/swagger puts on every route.
      operation.responses = Object.fromEntries(
        op.responses.map(({ status, schema }) => [
          String(status),
          schema === 'None'
            ? { description: 'No body.' }
            : { description: schema, content: { 'application/json': { schema: ref(schema) } } },
        ]),
      );
    }
  }
  document.components = { ...document.components, schemas };
  return document;
}

/**
 * Serves the UI at `/docs` and the JSON at `/docs-json`, built on first request (the routes are
 * known then). Works on Express and Fastify (SwaggerModule picks the adapter; Fastify needs
 * `@fastify/static` for the UI's assets). The UI runs scripts and an inline stylesheet, which the
 * gateway's strict policy forbids everywhere else: its own, narrower policy is set for these paths.
 */
export function installApiDocs(app: NestFastifyApplication): void {
  const prefix = `/${API_DOCS_PATH}`;
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      // The UI's paths only (as Express' `app.use('/docs')` matched them): the JSON keeps the strict policy.
      const url = request.url;
      const next = url.charAt(prefix.length);
      if (url.startsWith(prefix) && (next === '' || next === '/' || next === '?'))
        reply.header(
          'Content-Security-Policy',
          "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        );
      done();
    });
  SwaggerModule.setup(API_DOCS_PATH, app, () => describeGatewayApi(app), {
    customSiteTitle: 'OAuth token broker API',
  });
}
