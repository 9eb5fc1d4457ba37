// The fast local provider of bench:scale: an OAuth 2.0 token endpoint (refresh_token grant, RFC 6749
// §6) and a revocation endpoint (RFC 7009) that answer in the documented wire format after a fixed
// delay, issue short-lived tokens (rotating the refresh token, as Atlassian, Entra and Box do), and
// count every call. It checks the client's HTTP Basic credentials like a real provider would.
// Usage: node fake-provider.mjs <port> <client_id> <client_secret> <ttl_seconds> <delay_ms>
// Prints "ready" when it listens; GET /__counts answers the counters as JSON.
import http from 'node:http';
import { randomBytes } from 'node:crypto';

const [port, clientId, clientSecret, ttl, delay] = process.argv.slice(2);
const counts = { token_refresh: 0, token_other: 0, revoke: 0, unauthorized: 0, unauthorized_basic: 0, unauthorized_post: 0, unauthorized_none: 0 };
// RFC 6749 §2.3.1: HTTP Basic over the form-urlencoded id and secret, or both in the body.
/** @param {string} v */
const formDecode = (v) => decodeURIComponent(v.replace(/\+/g, ' '));
/**
 * @param {http.IncomingMessage} req
 * @param {URLSearchParams} form
 */
function authorized(req, form) {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Basic ')) {
    const [id, secret] = Buffer.from(header.slice(6), 'base64').toString().split(':');
    return formDecode(id ?? '') === clientId && formDecode(secret ?? '') === clientSecret;
  }
  return form.get('client_id') === clientId && form.get('client_secret') === clientSecret;
}

const server = http.createServer((req, res) => {
  /** @type {Buffer[]} */
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/__counts') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
      return;
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    /** @type {(status: number, body?: Record<string, string | number>) => void} */
    const answer = (status, body) => {
      setTimeout(() => {
        const text = body === undefined ? '' : JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(text);
      }, Number(delay));
    };
    if (req.method !== 'POST') return answer(405, { error: 'invalid_request' });
    if (!authorized(req, form)) {
      counts.unauthorized++;
      counts[req.headers.authorization?.startsWith('Basic ') ? 'unauthorized_basic' : form.has('client_secret') ? 'unauthorized_post' : 'unauthorized_none']++;
      return answer(401, { error: 'invalid_client' });
    }
    if (url.pathname === '/token') {
      if (form.get('grant_type') !== 'refresh_token' || !form.get('refresh_token')) {
        counts.token_other++;
        return answer(400, { error: 'unsupported_grant_type' });
      }
      counts.token_refresh++;
      return answer(200, {
        access_token: randomBytes(24).toString('base64url'),
        refresh_token: randomBytes(24).toString('base64url'),
        token_type: 'Bearer',
        expires_in: Number(ttl),
      });
    }
    if (url.pathname === '/revoke') {
      counts.revoke++;
      return answer(200);
    }
    answer(404, { error: 'not_found' });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
