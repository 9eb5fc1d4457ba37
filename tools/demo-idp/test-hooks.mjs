// Test hooks of the demo identity provider (only with DEMO_IDP_TEST_HOOKS=1): counters of what the
// provider did, faults injected at the token endpoint, and a control API under /__test/.
//
//   GET  /__test/events         → { "<name>": count, ... } since start or the last reset
//   GET  /__test/faults         → the faults armed now
//   POST /__test/faults         ← any of { tokenDelayMs, tokenStatus, count, retryAfter, tokenErrorBody,
//                                  dropAfterRotation } (see setFaults); answers like GET
//   POST /__test/reset          → clears faults and counters
//   POST /__test/revoke-grants  → revokes every grant (tokens included): { "revoked": n }
//
// Faults live in the HTTP layer in front of the provider's handler: token requests are read here
// (to count them by grant type), then replayed to the provider or answered here instead.
import { IncomingMessage } from 'node:http';

/** Provider events counted as they are (listener arguments ignored). */
const PROVIDER_EVENTS = [
  'grant.success',
  'grant.error',
  'grant.revoked',
  'access_token.saved',
  'access_token.destroyed',
  'refresh_token.saved',
  'refresh_token.consumed',
  'refresh_token.destroyed',
  'authorization_code.saved',
  'authorization_code.consumed',
  'device_code.saved',
  'device_code.consumed',
  'authorization.success',
  'authorization.error',
  'device_authorization.success',
  'device_authorization.error',
  'introspection.error',
  'revocation.error',
  'userinfo.error',
  'server_error',
];
const GRANT_LABELS = new Map([
  ['authorization_code', 'authorization_code'],
  ['refresh_token', 'refresh_token'],
  ['urn:ietf:params:oauth:grant-type:device_code', 'device_code'],
  ['client_credentials', 'client_credentials'],
]);
/** Counters that always appear (as 0 until they happen). */
const BASE_COUNTERS = [
  ...PROVIDER_EVENTS,
  ...[...new Set(GRANT_LABELS.values())].flatMap((g) => [`token_requests.${g}`, `grant.success.${g}`]),
  'token_requests.other',
  'revocation_requests',
  'revocation.success',
  'faults.token_status',
  'faults.token_error_body',
  'faults.delayed',
  'faults.dropped',
];

const MAX_DELAY_MS = 60_000;
const MAX_COUNT = 1_000;
const MAX_TOKEN_BODY = 64 * 1024;
const MAX_CONTROL_BODY = 16 * 1024;

const grantLabel = (grantType) => GRANT_LABELS.get(grantType) ?? 'other';
const noFaults = () => ({ tokenDelayMs: 0, tokenStatus: null, tokenErrorBody: null, dropAfterRotation: 0 });

class BadRequest extends Error {}

function sendJson(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req, limit) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new BadRequest('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** A request the provider can read again: same socket, method, URL and headers, the given body. */
function replay(req, body) {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  copy.headers = req.headers;
  copy.rawHeaders = req.rawHeaders;
  copy.complete = true; // fully received: destroying the copy must not take the socket down
  copy.push(body);
  copy.push(null);
  return copy;
}

function integer(value, name, min, max) {
  if (!Number.isInteger(value) || value < min || value > max) throw new BadRequest(`${name} must be an integer from ${min} to ${max}`);
  return value;
}

/**
 * Installs the counters on `provider` and returns the HTTP-layer pieces:
 * `control(req, res, pathname)` for /__test/*, `token(req, res)` for token requests and
 * `observe(req, res, pathname)` for other provider requests.
 */
export function installTestHooks({ provider, handler, grantIds, log }) {
  const counters = new Map();
  let faults = noFaults();
  const timers = new Set();

  const count = (name, n = 1) => counters.set(name, (counters.get(name) ?? 0) + n);
  const resetCounters = () => {
    counters.clear();
    for (const name of BASE_COUNTERS) counters.set(name, 0);
  };
  resetCounters();

  for (const name of PROVIDER_EVENTS) provider.on(name, () => count(name));
  provider.on('grant.success', (ctx) => count(`grant.success.${grantLabel(ctx?.oidc?.params?.grant_type)}`));
  provider.on('grant.error', (_ctx, err) => {
    const code = typeof err?.error === 'string' && /^[a-z_]{1,40}$/.test(err.error) ? err.error : 'other';
    count(`grant.error.${code}`);
  });

  const revocationPath = provider.pathFor('revocation');

  /** Runs `fn` after `ms` (now when 0), unless the response is closed first. */
  function later(res, ms, fn) {
    if (ms <= 0) return fn();
    count('faults.delayed');
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  }

  function setFaults(input) {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new BadRequest('expected a JSON object');
    const known = new Set(['tokenDelayMs', 'tokenStatus', 'count', 'retryAfter', 'tokenErrorBody', 'dropAfterRotation']);
    const unknown = Object.keys(input).filter((k) => !known.has(k));
    if (unknown.length) throw new BadRequest(`unknown fields: ${unknown.join(', ')}`);
    if ('tokenStatus' in input && 'tokenErrorBody' in input) throw new BadRequest('set tokenStatus and tokenErrorBody in separate requests (count applies to one)');
    const next = { ...faults };
    const times = 'count' in input ? integer(input.count, 'count', 0, MAX_COUNT) : 1;
    if ('tokenDelayMs' in input) next.tokenDelayMs = integer(input.tokenDelayMs, 'tokenDelayMs', 0, MAX_DELAY_MS);
    if ('tokenStatus' in input) {
      const status = integer(input.tokenStatus, 'tokenStatus', 400, 599);
      const retryAfter = 'retryAfter' in input ? integer(input.retryAfter, 'retryAfter', 0, 3600) : status === 429 ? 1 : null;
      next.tokenStatus = times > 0 ? { status, remaining: times, retryAfter } : null;
    } else if ('retryAfter' in input) throw new BadRequest('retryAfter goes with tokenStatus');
    if ('tokenErrorBody' in input) {
      const body = input.tokenErrorBody;
      if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof body.error !== 'string') throw new BadRequest('tokenErrorBody must be an object with an error string');
      next.tokenErrorBody = times > 0 ? { body, remaining: times } : null;
    }
    if ('count' in input && !('tokenStatus' in input) && !('tokenErrorBody' in input)) throw new BadRequest('count goes with tokenStatus or tokenErrorBody');
    if ('dropAfterRotation' in input) next.dropAfterRotation = integer(input.dropAfterRotation, 'dropAfterRotation', 0, MAX_COUNT);
    faults = next;
  }

  async function revokeAllGrants() {
    const ids = grantIds();
    const models = [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode, provider.DeviceCode];
    for (const grantId of ids) {
      await Promise.all([...models.map((model) => model.revokeByGrantId(grantId)), provider.Grant.adapter.destroy(grantId)]);
    }
    return ids.length;
  }

  async function control(req, res, pathname) {
    const route = `${req.method} ${pathname}`;
    try {
      switch (route) {
        case 'GET /__test/events':
          return sendJson(res, 200, Object.fromEntries([...counters].sort(([a], [b]) => a.localeCompare(b))));
        case 'GET /__test/faults':
          return sendJson(res, 200, faults);
        case 'POST /__test/faults': {
          const raw = (await readBody(req, MAX_CONTROL_BODY)).toString('utf8');
          let input;
          try {
            input = JSON.parse(raw || '{}');
          } catch {
            throw new BadRequest('body is not JSON');
          }
          setFaults(input);
          return sendJson(res, 200, faults);
        }
        case 'POST /__test/reset':
          await readBody(req, MAX_CONTROL_BODY);
          faults = noFaults();
          resetCounters();
          return sendJson(res, 200, { ok: true });
        case 'POST /__test/revoke-grants':
          await readBody(req, MAX_CONTROL_BODY);
          return sendJson(res, 200, { revoked: await revokeAllGrants() });
        default:
          return sendJson(res, 404, { error: 'not_found', routes: ['GET /__test/events', 'GET|POST /__test/faults', 'POST /__test/reset', 'POST /__test/revoke-grants'] });
      }
    } catch (err) {
      if (err instanceof BadRequest) return sendJson(res, 400, { error: 'invalid_request', error_description: err.message });
      log(`control ${route} failed: ${err?.message ?? err}`);
      return sendJson(res, 500, { error: 'server_error' });
    }
  }

  /** A POST to the token endpoint: counted, then faulted or handed to the provider. */
  async function token(req, res) {
    let body;
    try {
      body = await readBody(req, MAX_TOKEN_BODY);
    } catch (err) {
      if (err instanceof BadRequest) return sendJson(res, 413, { error: 'invalid_request', error_description: err.message });
      return res.destroy(); // the client went away mid-body
    }
    const form = /application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '') ? new URLSearchParams(body.toString('utf8')) : null;
    const grant = grantLabel(form?.get('grant_type') ?? undefined);
    count(`token_requests.${grant}`);
    const delay = faults.tokenDelayMs;

    if (faults.tokenStatus) {
      const { status, retryAfter } = faults.tokenStatus;
      if (--faults.tokenStatus.remaining <= 0) faults.tokenStatus = null;
      count('faults.token_status');
      const error = status === 429 || status === 503 ? 'temporarily_unavailable' : status >= 500 ? 'server_error' : 'invalid_request';
      const headers = retryAfter === null ? {} : { 'retry-after': String(retryAfter) };
      return later(res, delay, () => sendJson(res, status, { error, error_description: `demo-idp injected fault (HTTP ${status})` }, headers));
    }
    if (faults.tokenErrorBody) {
      const errorBody = faults.tokenErrorBody.body;
      if (--faults.tokenErrorBody.remaining <= 0) faults.tokenErrorBody = null;
      count('faults.token_error_body');
      return later(res, delay, () => sendJson(res, 400, errorBody));
    }

    const drop = grant === 'refresh_token' && faults.dropAfterRotation > 0;
    if (drop) faults.dropAfterRotation -= 1;
    if (delay > 0 || drop) {
      // Let the provider do all its work (rotation included), then hold or drop its answer.
      const end = res.end.bind(res);
      res.end = (...args) => {
        later(res, delay, () => {
          if (drop) {
            count('faults.dropped');
            res.destroy(); // closes the socket: the client sees a network error, no response
          } else if (!res.destroyed) {
            end(...args);
          }
        });
        return res;
      };
    }
    handler(replay(req, body), res);
  }

  /** Counts revocation requests and their successes. */
  function observe(req, res, pathname) {
    if (pathname === revocationPath && req.method === 'POST') {
      count('revocation_requests');
      res.once('finish', () => {
        if (res.statusCode === 200) count('revocation.success');
      });
    }
  }

  function stop() {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  }

  return { control, token, observe, stop };
}
