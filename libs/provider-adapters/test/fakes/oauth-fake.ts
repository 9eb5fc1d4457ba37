import { randomBytes, createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createGuardedFetch, type GuardedFetch } from '../../src';
import { json, startServer, type RecordedRequest, type TestServer } from '../support/servers';

/**
 * A small, stateful OAuth 2.0 authorization server on 127.0.0.1 that the provider fakes configure
 * with their provider's wire format: client authentication it insists on, refresh-token policy,
 * error names and statuses, answer encoding, device-flow answers, plus the provider's API routes.
 * Tests stand in for the user: `grantCode` is the consent, `device(...).script` the user's moves.
 */

/** What went wrong, in RFC terms; each fake names and shapes it its provider's way. */
export type FakeFailure =
  | 'invalid_client'
  | 'bad_code'
  | 'bad_verifier'
  | 'bad_refresh_token'
  | 'authorization_pending'
  | 'slow_down'
  | 'access_denied'
  | 'expired_token'
  | 'bad_device_code'
  | 'wrong_tenant';

export interface FakeErrorAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface FakeOptions {
  clientId: string;
  clientSecret: string;
  /** How the client must authenticate at the token endpoint (`none` on device requests is decided by `deviceClientAuth`). */
  clientAuth: 'client_secret_basic' | 'client_secret_post';
  /** Client authentication of device requests: `none` (client_id only) or as at the token endpoint. */
  deviceClientAuth?: 'none' | 'same';
  paths: { token: string; device?: string; revoke?: string };
  /**
   * `rotate`: each refresh returns a new refresh token and kills the one used (reuse → failure);
   * `keep`: refresh answers carry no refresh token, the old one stays valid (Google).
   */
  refresh: 'rotate' | 'keep';
  expiresIn?: number;
  /** Extra fields of each token answer (e.g. GitHub's `refresh_token_expires_in`). */
  tokenExtras?: Record<string, unknown>;
  /** The provider's name and shape for a failure. */
  error(failure: FakeFailure): FakeErrorAnswer;
  /** Writes a token-endpoint or device answer (default JSON); GitHub's writes form-encoded unless asked for JSON. */
  answer?(req: RecordedRequest, res: ServerResponse, status: number, body: Record<string, unknown>): void;
  /** Shapes the device authorization answer (Google says `verification_url`). */
  deviceAnswer?(body: Record<string, unknown>): Record<string, unknown>;
  /** Routes of the provider's API, `"GET /path"` → handler (the access token already checked unless `open`). */
  api?: Record<string, ApiRoute>;
  /** Grants of the provider's own beyond RFC 6749's, by grant_type (answered before client authentication: Box's downscoping has none). */
  grants?: Record<string, (params: Record<string, string>, fake: OAuthFake) => FakeErrorAnswer>;
  /** A request to a path outside the known ones (for Microsoft: another tenant's path). */
  unknownPath?(req: RecordedRequest, res: ServerResponse): boolean;
}

export interface ApiRoute {
  /** Skip the bearer check (the handler does its own). */
  open?: boolean;
  handle(ctx: { req: RecordedRequest; res: ServerResponse; token?: TokenRecord; fake: OAuthFake }): void;
}

export interface TokenRecord {
  accessToken: string;
  user: string;
  scope: string;
  alive: boolean;
}

interface CodeRecord {
  redirectUri: string;
  codeChallenge?: string;
  scope: string;
  user: string;
  /** Whether the answer carries a refresh token (Google: only on first consent or with prompt=consent). */
  withRefreshToken: boolean;
}

interface DeviceRecord {
  /** What each poll meets, in order; the last one repeats. `approved` issues tokens. */
  script: ('authorization_pending' | 'slow_down' | 'access_denied' | 'expired_token' | 'approved')[];
  scope: string;
  user: string;
}

export class OAuthFake {
  readonly codes = new Map<string, CodeRecord>();
  readonly refreshTokens = new Map<string, { alive: boolean; scope: string; user: string }>();
  readonly accessTokens = new Map<string, TokenRecord>();
  readonly devices = new Map<string, DeviceRecord>();
  readonly revoked: string[] = [];
  /** The next API answers: a forced status with headers and body (rate limits, outages). */
  readonly apiOverrides: { status: number; headers?: Record<string, string>; body?: unknown }[] = [];
  /** The next token-endpoint answers, forced (provider-specific error answers). */
  readonly tokenOverrides: { status: number; body: Record<string, unknown> }[] = [];
  private seq = 0;

  private constructor(
    readonly server: TestServer,
    readonly options: FakeOptions,
    readonly fetch: GuardedFetch,
  ) {}

  static async start(options: FakeOptions): Promise<OAuthFake> {
    const holder: { fake?: OAuthFake } = {};
    const server = await startServer((req, res) => holder.fake?.handle(req, res));
    holder.fake = new OAuthFake(
      server,
      options,
      createGuardedFetch({ allowLoopback: true, allowedPorts: [server.port] }),
    );
    return holder.fake;
  }

  get origin(): string {
    return this.server.origin;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** The requests to one path (no query). */
  requestsTo(path: string): RecordedRequest[] {
    return this.server.requests.filter((r) => r.url.split('?')[0] === path);
  }

  reset(): void {
    this.server.requests.length = 0;
    this.apiOverrides.length = 0;
    this.tokenOverrides.length = 0;
  }

  async close(): Promise<void> {
    await this.fetch.close();
    await this.server.close();
  }

  /** The user consented: a code for `redirectUri` (with the PKCE challenge the authorization URL carried). */
  grantCode(input: {
    redirectUri: string;
    codeChallenge?: string;
    scope?: string;
    user?: string;
    withRefreshToken?: boolean;
  }): string {
    const code = `code-${++this.seq}-${randomBytes(4).toString('hex')}`;
    this.codes.set(code, {
      redirectUri: input.redirectUri,
      codeChallenge: input.codeChallenge,
      scope: input.scope ?? 'read',
      user: input.user ?? 'ada',
      withRefreshToken: input.withRefreshToken ?? true,
    });
    return code;
  }

  /** A device code whose polls meet `script` (the user's moves); the last state repeats. */
  device(deviceCode: string, script: DeviceRecord['script'], user = 'ada'): void {
    this.devices.set(deviceCode, { script: [...script], scope: 'read', user });
  }

  /** An access token the fake honours (for API-only tests). */
  accessToken(user = 'ada', scope = 'read', prefix = 'at'): string {
    const at = `${prefix}-${++this.seq}-${randomBytes(4).toString('hex')}`;
    this.accessTokens.set(at, { accessToken: at, user, scope, alive: true });
    return at;
  }

  private handle(req: RecordedRequest, res: ServerResponse): void {
    const path = req.url.split('?')[0];
    const { paths } = this.options;
    if (req.method === 'POST' && path === paths.token) return this.token(req, res);
    if (req.method === 'POST' && paths.device && path === paths.device)
      return this.deviceAuthorization(req, res);
    if (paths.revoke && path === paths.revoke) return this.revoke(req, res);
    const route = this.options.api?.[`${req.method} ${path}`];
    if (route) return this.api(route, req, res);
    if (this.options.unknownPath?.(req, res)) return;
    json(res, 404, { message: 'Not Found' });
  }

  private params(req: RecordedRequest): Record<string, string> {
    if (String(req.headers['content-type'] ?? '').startsWith('application/json'))
      return JSON.parse(req.body || '{}') as Record<string, string>;
    return Object.fromEntries(new URLSearchParams(req.body));
  }

  /** The client's credentials as it sent them, and how. */
  clientCredentials(
    req: RecordedRequest,
    params: Record<string, string>,
  ): { method: 'client_secret_basic' | 'client_secret_post' | 'none'; id?: string; secret?: string } {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [id, secret] = Buffer.from(auth.slice(6), 'base64')
        .toString()
        .split(':')
        .map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
      return { method: 'client_secret_basic', id, secret };
    }
    if (params['client_secret'] !== undefined)
      return { method: 'client_secret_post', id: params['client_id'], secret: params['client_secret'] };
    return { method: 'none', id: params['client_id'] };
  }

  private fail(req: RecordedRequest, res: ServerResponse, failure: FakeFailure): void {
    const { status, body } = this.options.error(failure);
    this.write(req, res, status, body);
  }

  private write(
    req: RecordedRequest,
    res: ServerResponse,
    status: number,
    body: Record<string, unknown>,
  ): void {
    if (this.options.answer) this.options.answer(req, res, status, body);
    else json(res, status, body, { 'cache-control': 'no-store' });
  }

  private clientOk(req: RecordedRequest, params: Record<string, string>, device: boolean): boolean {
    const creds = this.clientCredentials(req, params);
    if (device && this.options.deviceClientAuth === 'none') return creds.id === this.options.clientId;
    return (
      creds.method === this.options.clientAuth &&
      creds.id === this.options.clientId &&
      creds.secret === this.options.clientSecret
    );
  }

  private issue(user: string, scope: string, withRefreshToken: boolean): Record<string, unknown> {
    const at = `at-${++this.seq}-${randomBytes(4).toString('hex')}`;
    this.accessTokens.set(at, { accessToken: at, user, scope, alive: true });
    const body: Record<string, unknown> = {
      access_token: at,
      token_type: 'bearer',
      expires_in: this.options.expiresIn ?? 3600,
      scope,
      ...this.options.tokenExtras,
    };
    if (withRefreshToken) {
      const rt = `rt-${++this.seq}-${randomBytes(4).toString('hex')}`;
      this.refreshTokens.set(rt, { alive: true, scope, user });
      body['refresh_token'] = rt;
    }
    return body;
  }

  private token(req: RecordedRequest, res: ServerResponse): void {
    const forced = this.tokenOverrides.shift();
    if (forced) return this.write(req, res, forced.status, forced.body);
    const params = this.params(req);
    const grant = params['grant_type'];
    const device = grant === 'urn:ietf:params:oauth:grant-type:device_code';
    const own = this.options.grants?.[grant];
    if (own) {
      const answer = own(params, this);
      return this.write(req, res, answer.status, answer.body);
    }
    if (!this.clientOk(req, params, device)) return this.fail(req, res, 'invalid_client');
    if (grant === 'authorization_code') {
      const record = this.codes.get(params['code']);
      this.codes.delete(params['code']);
      if (!record || record.redirectUri !== params['redirect_uri']) return this.fail(req, res, 'bad_code');
      if (record.codeChallenge) {
        const verifier = params['code_verifier'];
        if (!verifier || createHash('sha256').update(verifier).digest('base64url') !== record.codeChallenge)
          return this.fail(req, res, 'bad_verifier');
      }
      return this.write(req, res, 200, this.issue(record.user, record.scope, record.withRefreshToken));
    }
    if (grant === 'refresh_token') {
      const record = this.refreshTokens.get(params['refresh_token']);
      if (!record?.alive) return this.fail(req, res, 'bad_refresh_token');
      if (this.options.refresh === 'rotate') {
        record.alive = false;
        return this.write(req, res, 200, this.issue(record.user, record.scope, true));
      }
      return this.write(req, res, 200, this.issue(record.user, record.scope, false));
    }
    if (device) {
      const record = this.devices.get(params['device_code']);
      if (!record) return this.fail(req, res, 'bad_device_code');
      const state =
        record.script.length > 1
          ? (record.script.shift() as DeviceRecord['script'][number])
          : record.script[0];
      if (state === 'approved') {
        this.devices.delete(params['device_code']);
        return this.write(req, res, 200, this.issue(record.user, record.scope, true));
      }
      return this.fail(req, res, state);
    }
    this.write(req, res, 400, { error: 'unsupported_grant_type' });
  }

  private deviceAuthorization(req: RecordedRequest, res: ServerResponse): void {
    const params = this.params(req);
    if (!this.clientOk(req, params, true)) return this.fail(req, res, 'invalid_client');
    const deviceCode = `dc-${++this.seq}`;
    this.device(deviceCode, ['authorization_pending', 'approved']);
    const body: Record<string, unknown> = {
      device_code: deviceCode,
      user_code: 'WDJB-MJHT',
      verification_uri: `${this.origin}/device`,
      expires_in: 900,
      interval: 5,
    };
    this.write(req, res, 200, this.options.deviceAnswer ? this.options.deviceAnswer(body) : body);
  }

  private revoke(req: RecordedRequest, res: ServerResponse): void {
    const params = this.params(req);
    const token = params['token'];
    this.revoked.push(token);
    this.refreshTokens.delete(token);
    this.accessTokens.delete(token);
    res.writeHead(200).end();
  }

  private api(route: ApiRoute, req: RecordedRequest, res: ServerResponse): void {
    const override = this.apiOverrides.shift();
    if (override)
      return json(res, override.status, override.body ?? { message: 'forced' }, override.headers ?? {});
    if (route.open) return route.handle({ req, res, fake: this });
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? this.accessTokens.get(auth.slice(7)) : undefined;
    if (!token?.alive) return json(res, 401, { message: 'Bad credentials' });
    route.handle({ req, res, token, fake: this });
  }
}

/** The fields of a recorded form or JSON body. */
export function bodyOf(req: RecordedRequest): Record<string, string> {
  if (String(req.headers['content-type'] ?? '').startsWith('application/json'))
    return JSON.parse(req.body || '{}') as Record<string, string>;
  return Object.fromEntries(new URLSearchParams(req.body));
}

/** The client id and secret of a recorded request's Basic header. */
export function basicCredentials(req: RecordedRequest): [string, string] | undefined {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Basic ')) return undefined;
  const [id, secret] = Buffer.from(auth.slice(6), 'base64')
    .toString()
    .split(':')
    .map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
  return [id, secret];
}

/** A ResolvedProvider-like value with every occurrence of each cloud origin replaced by the fake's origin. */
export function pointAt<T>(value: T, replacements: Record<string, string>): T {
  let text = JSON.stringify(value);
  for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
  return JSON.parse(text) as T;
}

/** A PKCE pair. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
