import {
  BUS_ERROR_CODES,
  BUS_PATTERN_OWNERS,
  BusPattern,
  BusRequest,
  HTTP_STATUS_BY_BUS_ERROR,
  JOB_PAYLOAD_SCHEMAS,
  MessagePatterns,
  SERVICE_NAMES,
  busRequestSchema,
  isBusErrorPayload,
} from '../src';

describe('contracts', () => {
  it('names an owning service for every message pattern', () => {
    const patterns = Object.values(MessagePatterns).flatMap((group) => Object.values(group));
    for (const pattern of patterns) expect(SERVICE_NAMES).toContain(BUS_PATTERN_OWNERS[pattern]);
    expect(Object.keys(BUS_PATTERN_OWNERS).sort()).toEqual([...patterns].sort());
  });

  it('maps client mistakes to 4xx and our failures to 5xx', () => {
    for (const code of BUS_ERROR_CODES) expect(HTTP_STATUS_BY_BUS_ERROR[code]).toBeGreaterThanOrEqual(400);
    expect(HTTP_STATUS_BY_BUS_ERROR.NOT_FOUND).toBe(404);
    expect(HTTP_STATUS_BY_BUS_ERROR.UNPROCESSABLE).toBe(422);
    expect(HTTP_STATUS_BY_BUS_ERROR.TIMEOUT).toBeGreaterThanOrEqual(500);
  });

  it('recognizes bus error payloads only with a known code', () => {
    expect(isBusErrorPayload({ code: 'NOT_FOUND', message: 'x' })).toBe(true);
    expect(isBusErrorPayload({ code: 'TEAPOT', message: 'x' })).toBe(false);
    expect(isBusErrorPayload({ status: 'error', message: 'Internal server error' })).toBe(false);
    expect(isBusErrorPayload(null)).toBe(false);
  });
});

describe('bus payload schemas', () => {
  const uuid = '6b03d19f-18ad-4638-b93e-637240ae1250';
  const valid: { [P in BusPattern]: BusRequest<P> } = {
    'providers.list': { types: ['github'], orderBy: '-createdAt' },
    'providers.get': { id: uuid },
    'providers.create': {
      clientId: 'c',
      clientSecret: 's',
      name: 'n',
      type: 'oidc',
      issuer: 'https://issuer.example',
    },
    'providers.update': { id: uuid, changes: { name: 'x' } },
    'providers.delete': { id: uuid },
    'jobs.get': { id: uuid },
    'jobs.create': { type: 'STATS' },
    'providers.credentials': { id: uuid },
    'authorizations.authorize': { providerId: uuid, state: 's' },
    'authorizations.callback': { code: 'c', providerId: uuid, state: 's' },
    'authorizations.browser-callback': { providerId: '', state: 's' },
    'authorizations.list': {},
    'authorizations.delete': { id: uuid },
    'authorizations.token': { id: uuid },
    'authorizations.userinfo': { id: uuid },
    'tokens.acquire': { userId: 'alice', providerId: uuid, minValiditySeconds: 60 },
    'external-auth.list': {},
    'external-auth.get': { providerId: uuid },
    'external-auth.delete': { providerId: uuid },
    'external-auth.device-start': { providerId: uuid },
    'external-auth.device-exchange': { providerId: uuid, deviceCode: 'd' },
    'identity.token': { grant_type: 'client_credentials', basic: { clientId: 'a', clientSecret: 'b' } },
    'identity.jwks': {},
    'identity.userinfo': {},
    'identity.principal-token': {},
    'identity.delegated-token': { sub: 'alice', scopes: null, team_id: null },
    'identity.authorize': { response_type: 'code', duplicated: ['state'] },
    'identity.authorize-complete': { authorization: { client_id: 'c' }, upstreamAccessToken: 't' },
    'identity.revocations': { version: 'v1' },
    'identity.revoke': { token: 't', token_type_hint: 'access_token', client_id: 'c', client_secret: 's' },
    'identity.introspect': { token: 't', basic: { clientId: 'c', clientSecret: 's' } },
    'identity.admin-client': { clientId: 'cl_1', action: 'disable' },
    'identity.admin-user': { sub: 'alice', action: 'delete' },
    'identity.admin-revoke': { sub: 'alice' },
    'authorizations.consent-page': { state: 's' },
    'authorizations.consent-bind': { state: 's', bindingHash: 'ab'.repeat(32) },
    'oauth-setups.list': { deploymentId: uuid, query: { limit: 10, order: 'asc' } },
    'oauth-setups.get': { deploymentId: uuid, id: uuid },
    'oauth-setups.create': {
      deploymentId: uuid,
      body: { name: 'n', config: {}, redirect_url: 'https://app.example/done' },
    },
    'oauth-setups.update': { deploymentId: uuid, id: uuid, changes: { name: 'm' } },
    'oauth-setups.open': { linkToken: 'l' },
    'oauth-setups.finish': { setupId: uuid, result: { outcome: 'completed', authorizationId: uuid } },
    'authorizations.setup-consent': { linkToken: 'l' },
    'webhooks.list': {},
    'webhooks.get': { id: uuid },
    'webhooks.create': { url: 'https://hooks.example/in', event_types: ['authorization.created'] },
    'webhooks.update': { id: uuid, changes: { status: 'disabled' } },
    'webhooks.delete': { id: uuid },
    'webhooks.rotate-secret': { id: uuid },
    'webhooks.deliveries': { id: uuid, limit: 20 },
    'identity.token-grants.list': {},
    'identity.token-grants.create': {
      clientId: 'billing',
      grant: {
        providers: { ids: [uuid], types: ['github'] },
        subjects: { mode: 'self', users: [] },
        maxScopes: ['read:org'],
        maxLifetimeSeconds: 600,
        description: '',
      },
    },
    'identity.token-grants.delete': { id: uuid },
    'tokens.ledger.search': { subject: 'alice', since: '2026-01-01T00:00:00Z', limit: 100 },
    'tokens.ledger.lookup': { sha256: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=' },
    'tokens.ledger.hits': {
      hits: [{ ticket: 'lt1.e30.x', count: 3, firstAt: 1_767_225_600_000, lastAt: 1_767_225_601_000 }],
    },
    'tokens.exchange': {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      client_id: 'mcp',
      client_secret: 's',
      subject_token: 'eyJ.x.y',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: `urn:broker:provider:${uuid}`,
    },
    'tokens.revocation-jobs.start': { user: 'alice', reason: '' },
    'tokens.revocation-jobs.get': { id: uuid },
    'identity.client-metadata-settings.get': {},
    'identity.client-metadata-settings.set': {
      enabled: true,
      allowedClients: ['client.example'],
      maxScopes: ['providers:read'],
    },
    'identity.server-features': {},
  };

  it('has a schema for every pattern that takes a well-formed payload and refuses unknown fields and wrong types', () => {
    for (const pattern of Object.keys(BUS_PATTERN_OWNERS) as BusPattern[]) {
      const schema = busRequestSchema(pattern);
      expect(schema).toBeDefined();
      expect({ pattern, ok: schema?.safeParse(valid[pattern]).success }).toEqual({ pattern, ok: true });
      expect({ pattern, ok: schema?.safeParse({ ...valid[pattern], orgId: 'other-org' }).success }).toEqual({
        pattern,
        ok: false,
      });
      for (const junk of [null, 'x', 42, []])
        expect({ pattern, junk, ok: schema?.safeParse(junk).success }).toEqual({ pattern, junk, ok: false });
    }
    expect(busRequestSchema('nobody.knows')).toBeUndefined();
  });

  it('refuses a NUL in any text field (PostgreSQL cannot store one), naming the field', () => {
    const parsed = busRequestSchema('tokens.acquire')?.safeParse({ userId: 'alice\u0000', providerId: uuid });
    expect(parsed?.success).toBe(false);
    expect(parsed?.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['userId', 'must not contain NUL'],
    ]);
    expect(
      busRequestSchema('identity.admin-user')?.safeParse({ sub: 'a\u0000', action: 'delete' }).success,
    ).toBe(false);
    expect(
      busRequestSchema('identity.admin-user')?.safeParse({ sub: 'alice', action: 'promote' }).success,
    ).toBe(false);
    expect(
      busRequestSchema('tokens.acquire')?.safeParse({
        userId: 'alice',
        providerId: uuid,
        account: 'work\u0000',
      }).success,
    ).toBe(false);
    expect(busRequestSchema('tokens.ledger.search')?.safeParse({ subject: 'alice\u0000' }).success).toBe(
      false,
    );
    expect(busRequestSchema('tokens.revocation-jobs.start')?.safeParse({ consumer: 'x\u0000' }).success).toBe(
      false,
    );
    // A blast-radius job names exactly one target.
    expect(
      busRequestSchema('tokens.revocation-jobs.start')?.safeParse({ user: 'alice', provider: uuid }).success,
    ).toBe(false);
  });

  it('checks job data the same way: ids only, of the right shape', () => {
    expect(JOB_PAYLOAD_SCHEMAS.stats.STATS.safeParse({ orgId: 'o', jobId: uuid }).success).toBe(true);
    expect(
      JOB_PAYLOAD_SCHEMAS.stats.STATS.safeParse({ orgId: 'o', jobId: uuid, accessToken: 'x' }).success,
    ).toBe(false);
    expect(
      JOB_PAYLOAD_SCHEMAS['provider-deletion'].DELETE_PROVIDER.safeParse({
        orgId: 'o',
        providerId: uuid,
        jobId: 'not-a-uuid',
      }).success,
    ).toBe(false);
    expect(JOB_PAYLOAD_SCHEMAS['setup-expiry'].SWEEP_SETUPS.safeParse({}).success).toBe(true);
    expect(JOB_PAYLOAD_SCHEMAS['setup-expiry'].SWEEP_SETUPS.safeParse({ orgId: 'o' }).success).toBe(false);
    expect(
      JOB_PAYLOAD_SCHEMAS['webhook-delivery'].DELIVER_WEBHOOK.safeParse({ orgId: 'o', deliveryId: uuid })
        .success,
    ).toBe(true);
    expect(
      JOB_PAYLOAD_SCHEMAS['webhook-delivery'].DELIVER_WEBHOOK.safeParse({
        orgId: 'o',
        deliveryId: uuid,
        url: 'https://x',
      }).success,
    ).toBe(false);
  });
});
