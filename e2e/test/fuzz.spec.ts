import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as fc from 'fast-check';
import { BusRemoteError } from '@broker/bus';
import { BUS_PATTERN_OWNERS, BusPattern, SCOPES } from '@broker/contracts';
import { BrokerSystem } from './broker-system';

interface Route {
  method: string;
  path: string;
  surface:
    | 'external-oauth'
    | 'external-auth'
    | 'oauth-protocol'
    | 'oauth-api'
    | 'oauth-setups'
    | 'page'
    | 'health';
  auth: 'bearer' | 'principal' | 'client' | 'none';
  body: 'json' | 'form' | null;
}

const ROUTES = (
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'gateway-routes.json'), 'utf8')) as {
    routes: Route[];
  }
).routes;
/** Cases per HTTP route and per bus pattern; each property also stops after TIME_LIMIT_MS. */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);
const BUS_RUNS = Number(process.env['FUZZ_BUS_RUNS'] ?? 30);
const TIME_LIMIT_MS = 8_000;
const SEED = Number(process.env['FUZZ_SEED'] ?? randomInt(2 ** 31));

/** Strings an attacker would try: NUL and other control characters, lone surrogates, long ones, injection-looking ones. */
const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfffy',
    '\u0001\u001f\u007f',
    '%00',
    '../../etc/passwd',
    "' OR 1=1 --",
    '<script>alert(1)</script>',
    '${jndi:ldap://x}',
    '',
    ' ',
  ),
  fc.string({ minLength: 300, maxLength: 3_000 }),
  fc.uuid(),
);

/** Percent-encodes every byte but the unreserved ones (a lone surrogate becomes U+FFFD's bytes, as a browser would send). */
const percent = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');

/** A path segment: hostile text percent-encoded, raw broken escapes, or very long ids. */
const segment = fc.oneof(
  hostileString.map(percent).filter((s) => s.length > 0),
  fc.constantFrom('%', '%E0%A4%A', '%FF%FE', '%00', '%C0%AE%C0%AE', '..%2F..%2F', '%ED%A0%80'),
  fc.integer({ min: 256, max: 6_000 }).map((n) => 'a'.repeat(n)),
);

/** A query string: hostile names and values, repeats, broken escapes. */
const query = fc.oneof(
  fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'state',
            'code',
            'client_id',
            'redirect_uri',
            'flow',
            'providerId',
            'iss',
            'error',
            'types',
            'ids',
            'orderBy',
            'scope',
          ),
          hostileString,
        ),
        hostileString,
      ),
      { maxLength: 5 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${percent(k)}=${percent(v)}`).join('&')),
  fc.constantFrom(
    'state=%',
    'code=%E0%A4%A',
    'client_id=%00',
    'a=1&a=2&a=3',
    'x[y][z]=1',
    '=&=&',
    'flow=' + 'A'.repeat(43),
  ),
);

/** Field names the handlers read, so generated bodies reach past the first check. */
const FIELDS = [
  'sub',
  'scopes',
  'team_id',
  'code',
  'state',
  'providerId',
  'iss',
  'device_code',
  'type',
  'name',
  'clientId',
  'clientSecret',
  'issuer',
  'host',
  'endpoints',
  'status',
  'token',
  'token_type_hint',
  'client_id',
  'client_secret',
  'grant_type',
  'refresh_token',
  'code_verifier',
  'redirect_uri',
  'tz',
  'flow',
  'nonce',
];

const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), hostileString), tie('value'), { maxKeys: 4 }),
  ),
})).value;

interface BodyCase {
  contentType?: string;
  encoding?: string;
  body: Buffer;
  /** Syntactically not JSON: its error shape is the surface filter's (issue 14); only "no 5xx" is checked. */
  malformedJson?: boolean;
}

const json = (v: unknown, extra: Partial<BodyCase> = {}): BodyCase => ({
  contentType: 'application/json',
  body: Buffer.from(JSON.stringify(v) ?? 'null'),
  ...extra,
});

/** Bodies: wrong types, NUL and lone surrogates (as JSON escapes), deep nesting, huge, bad encodings and charsets, forms, other types. */
const bodyCase: fc.Arbitrary<BodyCase> = fc.oneof(
  fc
    .dictionary(fc.oneof(fc.constantFrom(...FIELDS), hostileString), jsonValue, { maxKeys: 6 })
    .map((o) => json(o)),
  fc.array(jsonValue, { maxLength: 4 }).map((a) => json(a)),
  fc.integer({ min: 33, max: 40_000 }).map((depth) => ({
    contentType: 'application/json',
    body: Buffer.from('['.repeat(depth) + ']'.repeat(depth)),
  })),
  fc.integer({ min: 33, max: 5_000 }).map((depth) => ({
    contentType: 'application/json',
    body: Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  })),
  fc.integer({ min: 101 * 1024, max: 400 * 1024 }).map((size) => json({ sub: 'x'.repeat(size) })),
  fc.constantFrom(FIELDS[0], ...FIELDS).map((f) => json({ [f]: 'a\u0000b', nested: { [f]: '\ud800' } })),
  jsonValue.map((v) =>
    json({ data: v }, { encoding: 'gzip', body: gzipSync(Buffer.from(JSON.stringify({ data: v }))) }),
  ),
  fc
    .uint8Array({ minLength: 0, maxLength: 200 })
    .chain((bytes) =>
      fc
        .constantFrom('gzip', 'deflate', 'br', 'compress', 'x-unknown')
        .map((encoding) => ({ contentType: 'application/json', encoding, body: Buffer.from(bytes) })),
    ),
  fc.constantFrom('utf-7', 'latin1', 'utf-16', 'bogus').map((charset) => ({
    contentType: `application/json; charset=${charset}`,
    body: Buffer.from('{"a":"b"}'),
  })),
  fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...FIELDS), hostileString), hostileString), { maxLength: 6 })
    .map((pairs) => ({
      contentType: 'application/x-www-form-urlencoded',
      body: Buffer.from(pairs.map(([k, v]) => `${percent(k)}=${percent(v)}`).join('&')),
    })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({
    contentType: 'application/x-www-form-urlencoded',
    body: Buffer.concat([Buffer.from('a=%'), Buffer.from(bytes)]),
  })),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({
    contentType: 'application/json',
    body: Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bytes), Buffer.from('"}')]),
    malformedJson: true,
  })),
  fc
    .constantFrom('{', '[1,]', 'nul', '"just a string"', '42', '{"a":1}{"b":2}')
    .map((text) => ({ contentType: 'application/json', body: Buffer.from(text), malformedJson: true })),
  fc
    .uint8Array({ maxLength: 300 })
    .chain((bytes) =>
      fc
        .constantFrom(
          'text/plain',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          undefined,
        )
        .map((contentType) => ({ contentType, body: Buffer.from(bytes) })),
    ),
);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isFieldList = (v: unknown) =>
  Array.isArray(v) &&
  v.every((f) => isObject(f) && typeof f['name'] === 'string' && typeof f['message'] === 'string');

/** Whether an error body has the documented shape of its surface (undefined: it has; else what is wrong). */
function shapeProblem(surface: Route['surface'], contentType: string, text: string): string | undefined {
  if (surface === 'page')
    return /^text\/html/.test(contentType) ? undefined : `a page answered ${contentType}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `not JSON: ${text.slice(0, 80)}`;
  }
  if (!isObject(body)) return 'not an object';
  const keys = Object.keys(body).sort().join(',');
  switch (surface) {
    case 'external-oauth':
      return typeof body['message'] === 'string' &&
        isFieldList(body['errorFields']) &&
        keys === 'errorFields,message'
        ? undefined
        : `not {message, errorFields}: ${keys}`;
    case 'external-auth':
      return typeof body['message'] === 'string' &&
        Object.keys(body).every((k) => ['message', 'detail', 'validations'].includes(k))
        ? undefined
        : `not codersdk.Response: ${keys}`;
    case 'oauth-protocol':
      if (
        typeof body['error'] === 'string' &&
        Object.keys(body).every((k) => ['error', 'error_description'].includes(k))
      )
        return undefined;
      return Array.isArray(body['detail']) && keys === 'detail'
        ? undefined
        : `not an RFC 6749 error or {detail: []}: ${keys}`;
    case 'oauth-api':
      return (typeof body['detail'] === 'string' || Array.isArray(body['detail'])) && keys === 'detail'
        ? undefined
        : `not {detail}: ${keys}`;
    case 'oauth-setups':
      return body['object'] === 'error' &&
        typeof body['status'] === 'number' &&
        typeof body['code'] === 'string' &&
        typeof body['message'] === 'string' &&
        Array.isArray(body['errors']) &&
        keys === 'code,errors,message,object,status'
        ? undefined
        : `not {object: error, status, code, message, errors}: ${keys}`;
    case 'health':
      return undefined;
  }
}

/**
 * Generated bad input against every route of the four surfaces (and the hosted pages and
 * `.well-known`) and every bus pattern: no answer is a 5xx, every error has its surface's
 * documented shape, and every service is still up at the end. Bounded in cases and time; prints
 * the cases run per route and pattern, and the seed (FUZZ_SEED=… replays a run).
 */
describe('fuzzing every route and bus pattern with hostile input', () => {
  const system = new BrokerSystem({ label: 'fuzz', providerClient: true });
  let token: string;
  let providerId: string;
  const cases = new Map<string, number>();

  beforeAll(async () => {
    await system.start();
    const admin = await system.adminToken();
    providerId = await system.registerDemoProvider(admin);
    // The fuzzer's own client holds every scope: each handler is reached, not only its scope check.
    const fuzzer = await system.createClient({
      orgId: 'default',
      grantTypes: ['client_credentials'],
      scopes: [...SCOPES],
    });
    token = await system.clientToken(fuzzer);
    // ...and a consumer policy of every token of its org, so the token path is reached past the policy check.
    const granted = await system.api(`/api/v1/oauth/admin/clients/${fuzzer.clientId}/token-grants`, admin, {
      method: 'POST',
      body: { providers: '*', subjects: { mode: 'org' } },
    });
    if (granted.status !== 201) throw new Error(`grant refused: ${granted.status}`);
    process.stdout.write(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it)\n`);
  });

  afterAll(async () => {
    const lines = [...cases].map(([name, n]) => `  ${String(n).padStart(4)}  ${name}`);
    process.stdout.write(
      `fuzz cases run (total ${[...cases.values()].reduce((a, b) => a + b, 0)}):\n${lines.join('\n')}\n`,
    );
    await system.stop();
  });

  const authHeader = fc.oneof(
    fc.constant<string | undefined>(undefined),
    fc.constant('valid'),
    fc.stringMatching(/^[\x20-\x7e]{0,60}$/).map((s) => `Bearer ${s}`),
    fc.constantFrom(
      'Basic',
      'Basic !!!',
      `Basic ${Buffer.from('admin:\u0000').toString('base64')}`,
      'Bearer',
      'Bearer a.b.c',
    ),
  );

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (name, route) => {
    const params = (route.path.match(/:[A-Za-z]+/g) ?? []).length;
    const realId =
      route.method !== 'DELETE' && /providerId|externalauth/.test(route.path)
        ? fc.constant(providerId)
        : segment;
    const arbitrary = fc.record({
      segments: fc.array(fc.oneof(segment, realId), { minLength: params, maxLength: params }),
      query: fc.option(query, { nil: undefined }),
      body:
        route.method === 'GET' || route.method === 'DELETE'
          ? fc.constant<BodyCase | undefined>(undefined)
          : fc.option(bodyCase, { nil: undefined }),
      auth: authHeader,
    });
    await fc.assert(
      fc.asyncProperty(arbitrary, async (c) => {
        cases.set(name, (cases.get(name) ?? 0) + 1);
        let i = 0;
        const path = route.path.replace(/:[A-Za-z]+/g, () => c.segments[i++]);
        const headers: Record<string, string> = {};
        if (c.auth === 'valid') headers['authorization'] = `Bearer ${token}`;
        else if (c.auth !== undefined) headers['authorization'] = c.auth;
        if (c.body?.contentType) headers['content-type'] = c.body.contentType;
        if (c.body?.encoding) headers['content-encoding'] = c.body.encoding;
        const res = await fetch(`${system.base}${path}${c.query !== undefined ? `?${c.query}` : ''}`, {
          method: route.method,
          headers,
          body: c.body?.body,
          redirect: 'manual',
        });
        const text = await res.text();
        const where = `${route.method} ${path.slice(0, 120)} → ${res.status}: ${text.slice(0, 160)}`;
        if (res.status >= 500) throw new Error(`5xx: ${where}`);
        if (res.status >= 400 && !c.body?.malformedJson && res.status !== 431 && res.status !== 414) {
          const problem = shapeProblem(route.surface, res.headers.get('content-type') ?? '', text);
          if (problem) throw new Error(`wrong error shape (${problem}): ${where}`);
        }
      }),
      {
        numRuns: RUNS,
        seed: SEED,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: false,
        endOnFailure: true,
      },
    );
    expect(cases.get(name)).toBeGreaterThan(0);
  });

  const busPayload = fc.oneof(
    jsonValue,
    fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          ...FIELDS,
          'id',
          'changes',
          'authorizationId',
          'userId',
          'minValiditySeconds',
          'version',
          'bindingHash',
          'action',
          'authorization',
          'upstreamAccessToken',
          'deviceCode',
        ),
        hostileString,
      ),
      jsonValue,
      { maxKeys: 6 },
    ),
  );
  const patterns = Object.keys(BUS_PATTERN_OWNERS) as BusPattern[];

  it.each(patterns.map((p) => [p] as const))('bus %s', async (pattern) => {
    const name = `bus ${pattern}`;
    await fc.assert(
      fc.asyncProperty(
        busPayload,
        fc.oneof(fc.constant<string | undefined>(undefined), fc.constant('valid'), hostileString),
        async (payload, auth) => {
          cases.set(name, (cases.get(name) ?? 0) + 1);
          const outcome = await system.bus
            .request(pattern, payload as never, { auth: auth === 'valid' ? token : auth, timeoutMs: 3_000 })
            .then(
              () => 'ok',
              (e: unknown) =>
                e instanceof BusRemoteError ? e.code : `${(e as Error).name}: ${(e as Error).message}`,
            );
          if (
            ![
              'ok',
              'BAD_REQUEST',
              'UNAUTHENTICATED',
              'FORBIDDEN',
              'NOT_FOUND',
              'CONFLICT',
              'GONE',
              'UNPROCESSABLE',
              'RATE_LIMITED',
            ].includes(outcome)
          ) {
            throw new Error(`${pattern} answered ${outcome} to ${JSON.stringify(payload)?.slice(0, 200)}`);
          }
        },
      ),
      {
        numRuns: BUS_RUNS,
        seed: SEED,
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: false,
        endOnFailure: true,
      },
    );
    expect(cases.get(name)).toBeGreaterThan(0);
  });

  it('answers the bad input the issue found with a 4xx in each surface’s shape (NUL in client_id, a body that is not gzip)', async () => {
    const nul = (path: string, init?: RequestInit) =>
      fetch(`${system.base}${path}`, { redirect: 'manual', ...init });
    const tokenForm = await nul('/api/v1/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=a%00b&client_secret=x',
    });
    expect(tokenForm.status).toBe(400);
    expect(await tokenForm.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.stringContaining('NUL'),
    });
    const tokenJson = await nul('/api/v1/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"client_credentials","client_id":"a\\u0000b","client_secret":"x"}',
    });
    expect(tokenJson.status).toBe(400);
    const authorize = await nul('/api/v1/oauth/authorize?response_type=code&client_id=a%00b');
    expect(authorize.status).toBe(400);
    expect(await authorize.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.any(String),
    });
    // Content-Encoding: gzip with a body that is not gzip, on every route that takes a body.
    for (const route of ROUTES.filter((r) => r.body)) {
      const res = await fetch(`${system.base}${route.path.replace(/:[A-Za-z]+/g, providerId)}`, {
        method: route.method,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': route.body === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
          'content-encoding': 'gzip',
        },
        body: 'this is not gzip',
      });
      const text = await res.text();
      expect({
        route: route.path,
        status: res.status,
        shape: shapeProblem(route.surface, res.headers.get('content-type') ?? '', text),
      }).toEqual({ route: route.path, status: 400, shape: undefined });
    }
  });

  it('answers a request whose bearer token is empty with UNAUTHENTICATED (it was dropped unanswered, the caller waited for its timeout)', async () => {
    await expect(
      system.bus.request('tokens.acquire', { userId: 'u', providerId }, { auth: '', timeoutMs: 3_000 }),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it("refuses over the bus a NUL before any query (the pattern's schema names the field), without logging the value", async () => {
    const marker = `nul-marker-${Date.now()}`;
    await expect(
      system.bus.request('tokens.acquire', { userId: `${marker}\u0000`, providerId }, { auth: token }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: "invalid 'tokens.acquire' payload",
      fields: [expect.objectContaining({ name: 'userId' })],
    });
    await new Promise((r) => setTimeout(r, 300)); // logs are flushed every 250 ms
    expect(system.logs()).not.toContain(marker);
  });

  it('leaves every service up, and no failed query logged with its values', async () => {
    for (const service of [...system.gateways, ...system.brokers, system.registry]) {
      expect({ app: service.app, running: service.running }).toEqual({ app: service.app, running: true });
      expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    }
    const logs = system.logs();
    expect(logs).not.toContain('QueryFailedError');
    expect(logs).not.toMatch(/"parameters"\s*:/);
    expect(logs).not.toMatch(/"driverError"/);
  });
});
