import { LOCAL_TIME_ZONE, SEED_TIME_ZONES } from '@broker/contracts';
import type { TokenExchangeRequest, TokenRequest, TokenRevocationRequest } from '@broker/contracts';
import { TOKEN_EXCHANGE_GRANT } from '@broker/contracts';
import { OAuthValidationError } from './oauth-error.filter';

const STRING_FIELDS = [
  'grant_type',
  'client_id',
  'client_secret',
  'code',
  'code_verifier',
  'redirect_uri',
  'refresh_token',
  'scope',
  'tz',
  'resource',
] as const;
/** Every `tz` the seed documents, and whatever else this runtime's tz database names (newer zones). */
const TIME_ZONES: ReadonlySet<string> = new Set<string>([
  ...SEED_TIME_ZONES,
  ...Intl.supportedValuesOf('timeZone'),
]);
/** `localtime` stands for the server's own zone (UTC when the host says nothing). */
const SERVER_TIME_ZONE = new Intl.DateTimeFormat('en').resolvedOptions().timeZone || 'UTC';

/** Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-urlencoded). */
export function parseBasicAuth(header: string | undefined): TokenRequest['basic'] {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return undefined;
  const unescape = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { clientId: unescape(decoded.slice(0, sep)), clientSecret: unescape(decoded.slice(sep + 1)) };
}

/** Validates a token request body (form or JSON): 422 in the seed's shape naming each bad field. */
export function parseTokenRequest(body: unknown, authorization: string | undefined): TokenRequest {
  const raw = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const detail: { loc: string[]; msg: string; type: string }[] = [];
  const out: TokenRequest = {};
  for (const field of STRING_FIELDS) {
    const v = raw[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string')
      detail.push({ loc: ['body', field], msg: 'Input should be a valid string', type: 'string_type' });
    else out[field] = v;
  }
  if (out.grant_type === undefined && !detail.some((d) => d.loc[1] === 'grant_type')) {
    detail.push({ loc: ['body', 'grant_type'], msg: 'Field required', type: 'missing' });
  }
  if (out.tz !== undefined && !TIME_ZONES.has(out.tz)) {
    detail.push({
      loc: ['body', 'tz'],
      msg: 'Input should be a time zone name of the tz database (e.g. Europe/Oslo)',
      type: 'enum',
    });
  }
  if (out.tz === LOCAL_TIME_ZONE) out.tz = SERVER_TIME_ZONE;
  if (detail.length) throw new OAuthValidationError(detail);
  const basic = parseBasicAuth(authorization);
  if (basic) out.basic = basic;
  return out;
}

const STATUS_FIELDS = ['token', 'token_type_hint', 'client_id', 'client_secret'] as const;

/** Validates an RFC 7009 revocation or RFC 7662 introspection body (form or JSON): 422 in the seed's shape naming each bad field. */
export function parseTokenStatusRequest(
  body: unknown,
  authorization: string | undefined,
): TokenRevocationRequest {
  const raw = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const detail: { loc: string[]; msg: string; type: string }[] = [];
  const out: TokenRevocationRequest = {};
  for (const field of STATUS_FIELDS) {
    const v = raw[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string')
      detail.push({ loc: ['body', field], msg: 'Input should be a valid string', type: 'string_type' });
    else out[field] = v;
  }
  if (out.token === undefined && !detail.some((d) => d.loc[1] === 'token'))
    detail.push({ loc: ['body', 'token'], msg: 'Field required', type: 'missing' });
  if (detail.length) throw new OAuthValidationError(detail);
  const basic = parseBasicAuth(authorization);
  if (basic) out.basic = basic;
  return out;
}

const EXCHANGE_FIELDS = [
  'client_id',
  'client_secret',
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
  'requested_token_type',
  'scope',
  'account',
] as const;
/** RFC 8693 §2.1 and RFC 8707: `resource` and `audience` may be repeated (the broker then refuses with invalid_target). */
const TARGET_FIELDS = ['resource', 'audience'] as const;

/** Whether a token request body asks for an RFC 8693 token exchange. */
export function isTokenExchange(body: unknown): boolean {
  return (
    !!body &&
    typeof body === 'object' &&
    (body as Record<string, unknown>)['grant_type'] === TOKEN_EXCHANGE_GRANT
  );
}

/** Validates an RFC 8693 token exchange body (form or JSON): 422 naming each bad field; the rest is the broker's to judge. */
export function parseTokenExchangeRequest(
  body: unknown,
  authorization: string | undefined,
): TokenExchangeRequest {
  const raw = body as Record<string, unknown>;
  const detail: { loc: string[]; msg: string; type: string }[] = [];
  const out: TokenExchangeRequest = { grant_type: TOKEN_EXCHANGE_GRANT };
  for (const field of EXCHANGE_FIELDS) {
    const v = raw[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.length === 0 || v.length > 16_384)
      detail.push({
        loc: ['body', field],
        msg: 'Input should be a string of 1 to 16384 characters',
        type: 'string_type',
      });
    else out[field] = v;
  }
  for (const field of TARGET_FIELDS) {
    const v = raw[field];
    if (v === undefined || v === null) continue;
    const values = Array.isArray(v) ? v : [v];
    if (
      values.length > 10 ||
      values.some((x) => typeof x !== 'string' || x.length === 0 || x.length > 16_384)
    ) {
      detail.push({
        loc: ['body', field],
        msg: 'Input should be one to ten non-empty strings',
        type: 'string_type',
      });
    } else out[field] = values.length === 1 ? (values[0] as string) : (values as string[]);
  }
  if (detail.length) throw new OAuthValidationError(detail);
  const basic = parseBasicAuth(authorization);
  if (basic) out.basic = basic;
  return out;
}
