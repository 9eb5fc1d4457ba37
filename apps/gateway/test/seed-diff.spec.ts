import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  diffAgainstSeeds,
  fields,
  loadSeedFixtures,
  type JsonSchema,
  type OpenApiDocument,
  type SeedFixture,
} from '@broker/testing';

/**
 * The OpenAPI test's comparison (libs/testing/src/lib/openapi-seeds/seed-diff.ts) can fail: deliberately broken copies of the committed
 * document (and of a seed) give the lines that name each break, and nothing else.
 */
const committed = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'openapi.json'), 'utf8');
const fixtures = loadSeedFixtures();
const freshDoc = () => JSON.parse(committed) as OpenApiDocument;
const schemasOf = (doc: OpenApiDocument) => doc.components?.schemas as Record<string, JsonSchema>;
const propsOf = (schema: JsonSchema) => schema['properties'] as Record<string, JsonSchema>;

describe('diffAgainstSeeds (the OpenAPI test’s comparison)', () => {
  it('finds nothing on the committed document, after comparing every field of every documented body', () => {
    expect(diffAgainstSeeds(freshDoc(), fixtures)).toEqual([]);
    const doc = freshDoc();
    const compared = Object.values(doc.paths)
      .flatMap((item) => Object.values(item))
      .flatMap((op) => Object.values(op.responses ?? {}))
      .map((r) => fields(r.content?.['application/json']?.schema, schemasOf(doc)).size)
      .reduce((a, b) => a + b, 0);
    expect(compared).toBeGreaterThan(300);
  });

  it('names a missing operation, a status the seed lacks and one the document lacks', () => {
    const doc = freshDoc();
    delete doc.paths['/api/v2/external-auth/{externalauth}']['delete'];
    const userinfo = doc.paths['/api/v1/oauth/userinfo']['get'].responses ?? {};
    userinfo['418'] = { description: 'teapot' } as never;
    delete userinfo['401'];
    expect(diffAgainstSeeds(doc, fixtures)).toEqual([
      'DELETE /api/v2/external-auth/{externalauth}: in seed 001, not in the document',
      'GET /api/v1/oauth/userinfo: the document answers 418, seed 003 does not',
      'GET /api/v1/oauth/userinfo: seed 003 answers 401, the document does not',
    ]);
  });

  it('names a field the code adds, one it drops, a changed type, enum and required-ness, wherever the shape is used', () => {
    const doc = freshDoc();
    const schemas = schemasOf(doc);
    propsOf(schemas['oauth.User'])['shoeSize'] = { type: 'integer' };
    delete propsOf(schemas['codersdk.ExternalAuthDevice'])['interval'];
    propsOf(schemas['handler.DeleteOAuthProviderResponse'])['location'] = { type: 'integer' };
    (schemas['models.JobStatus']['enum'] as string[]).push('PAUSED');
    schemas['models.OAuthProvider']['required'] = ['id'];
    const problems = diffAgainstSeeds(doc, fixtures).join('\n');
    expect(problems).toContain(
      'GET /api/v2/externalOAuth/providers/ 200:\n    ~ data.[].id: the document says string, required; seed 000 says string, optional',
    );
    expect(problems).toContain(
      'GET /api/v2/externalOAuth/authorizedProviders/{authorizedProviderId}/userinfo/ 200:\n    + shoeSize (integer, optional): in the document, not in seed 000',
    );
    expect(problems).toContain(
      '    + userInfo.shoeSize (integer, optional): in the document, not in seed 000',
    );
    expect(problems).toContain(
      'GET /api/v2/external-auth/{externalauth}/device 200:\n    - interval (integer, optional): in seed 001, not in the document',
    );
    expect(problems).toMatch(
      /DELETE \/api\/v2\/externalOAuth\/providers\/\{providerID\}\/ 202:\n {4}~ location: the document says integer, optional; seed 000 says string, optional/,
    );
    expect(problems).toMatch(
      /GET \/api\/v2\/externalOAuth\/jobs\/\{jobId\}\/ 200:\n {4}~ status: the document says string, enum \[COMPLETED, ERROR, PAUSED, PENDING, RUNNING\]/,
    );
  });

  it('fails the other way round too: a seed that documents a field the code does not return', () => {
    const seed = JSON.parse(JSON.stringify(fixtures['002'])) as SeedFixture;
    propsOf(propsOf(seed.schemas['provider.oauth_setup'])['deployment'])['region'] = { type: 'string' };
    const problems = diffAgainstSeeds(freshDoc(), { ...fixtures, '002': seed });
    expect(problems.join('\n')).toContain(
      '    - deployment.region (string, optional): in seed 002, not in the document',
    );
  });

  it('names request fields the code accepts beyond the seed (unless listed as an extension) or drops, and query parameters', () => {
    const doc = freshDoc();
    const schemas = schemasOf(doc);
    propsOf(schemas['CreateProviderBody'])['colour'] = { type: 'string' };
    schemas['CreateProviderBody']['required'] = ['clientId', 'name', 'type'];
    delete propsOf(schemas['CreateOAuthSetupBody'])['config'];
    const list = doc.paths['/api/v2/provider-deployments/{deploymentId}/oauth-setups']['get'];
    list.parameters = (list.parameters ?? []).filter((p) => p.name !== 'cursor');
    expect(diffAgainstSeeds(doc, fixtures)).toEqual([
      [
        'POST /api/v2/externalOAuth/providers/ request body:',
        '    ~ clientSecret: the document says string, optional; seed 000 says string, required',
        '    + colour (string, optional): in the document, not in seed 000',
      ].join('\n'),
      [
        'GET /api/v2/provider-deployments/{provider_deployment_id}/oauth-setups query:',
        '    - cursor (a parameter): in seed 002, not in the document',
      ].join('\n'),
      [
        'POST /api/v2/provider-deployments/{provider_deployment_id}/oauth-setups request body:',
        '    - config (a field): in seed 002, not in the document',
      ].join('\n'),
    ]);
  });

  it('takes a request field listed as an extension only for the operation that lists it', () => {
    const seed = JSON.parse(JSON.stringify(fixtures['000'])) as SeedFixture;
    seed.requestExtensions = (seed.requestExtensions ?? []).filter((e) => e.field !== 'iss');
    expect(diffAgainstSeeds(freshDoc(), { ...fixtures, '000': seed })).toEqual([
      [
        'POST /api/v2/externalOAuth/providers/callback/ request body:',
        '    + iss (string, optional): in the document, not in seed 000',
      ].join('\n'),
    ]);
  });
});
