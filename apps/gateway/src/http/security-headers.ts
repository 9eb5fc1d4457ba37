import { randomBytes, randomFillSync } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';

/** The part of a response the header replay writes to (a Node/Express response, or a shim over a Fastify reply). */
export interface HeaderSink {
  locals: Record<string, unknown>;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  removeHeader(name: string): unknown;
}

type Handler = (req: unknown, res: HeaderSink, next: (err?: unknown) => void) => void;

declare module 'fastify' {
  interface FastifyReply {
    /** This answer's Content-Security-Policy nonce (the pages' stylesheet carries it). */
    cspNonce: string;
  }
}

type Directives = Record<string, Iterable<string | ((req: IncomingMessage, res: ServerResponse) => string)>>;

const nonce = (_req: IncomingMessage, res: ServerResponse) =>
  `'nonce-${String((res as unknown as HeaderSink).locals['cspNonce'] ?? '')}'`;

function directives(https: boolean, formAction: string[]): Directives {
  return {
    'default-src': ["'none'"],
    'base-uri': ["'none'"],
    // The consent start page posts to itself, which redirects to the provider: both must be allowed.
    'form-action': ["'self'", ...formAction],
    'frame-ancestors': ["'none'"],
    'style-src': [nonce],
    'img-src': ["'self'", 'data:'],
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/** helmet's middleware with the gateway's settings. */
export function helmetMiddleware(publicUrl: string): Handler {
  const https = publicUrl.startsWith('https:');
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: directives(https, []) },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  }) as unknown as Handler;
}

/** What a middleware did to a response's headers, in order. */
type HeaderOp = { set: string; value: string | number | readonly string[] } | { remove: string };

/**
 * The header operations helmet performs for a response whose nonce is `mark`. helmet's output
 * depends on nothing in the request with these settings (every directive is fixed but the nonce),
 * so it is computed once per process and replayed per answer with a fresh nonce put in the mark's
 * place: the same headers, in the same order, as running helmet itself on every request, without
 * rebuilding the policy string each time (helmet was ≈ 3 % of the gateway's CPU per request).
 */
export function recordHelmet(middleware: Handler, mark: string): HeaderOp[] {
  const ops: HeaderOp[] = [];
  const res = {
    locals: { cspNonce: mark },
    setHeader: (name: string, value: string | number | readonly string[]) =>
      void ops.push({ set: name, value }),
    removeHeader: (name: string) => void ops.push({ remove: name }),
    getHeader: () => undefined,
  };
  let nextCalled = false;
  let failure: unknown;
  middleware({ headers: {}, method: 'GET', url: '/' }, res as unknown as HeaderSink, (err?: unknown) => {
    nextCalled = true;
    failure = err;
  });
  // helmet is synchronous: anything else means it changed in a way this replay cannot follow.
  if (!nextCalled || failure)
    throw new Error(`helmet did not finish synchronously${failure ? `: ${String(failure)}` : ''}`);
  return ops;
}

/**
 * Headers on every answer, set by helmet: a strict Content-Security-Policy (no scripts; only the
 * page's own nonce-tagged stylesheet; `frame-ancestors 'none'`), `X-Frame-Options: DENY`,
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, HSTS behind https. Every answer
 * also starts as `Cache-Control: no-store` (tokens, codes, states and personal data must not be
 * cached anywhere); the few public documents (`.well-known`) say otherwise themselves.
 */
export function securityHeaders(publicUrl: string): Handler[] {
  const replay = replayOf(publicUrl);
  return [
    (_req: unknown, res: HeaderSink, next: (err?: unknown) => void) => {
      const cspNonce = freshNonce();
      res.locals['cspNonce'] = cspNonce;
      replayOn(
        {
          header: (name, value) => res.setHeader(name, value),
          removeHeader: (name) => res.removeHeader(name),
        },
        replay,
        cspNonce,
      );
      next();
    },
  ];
}

/** What helmet does to a response, recorded once, with the nonce's place in the policy marked. */
type Replay = (HeaderOp | { set: string; before: string; after: string })[];

function replayOf(publicUrl: string): Replay {
  // A mark that cannot occur in the policy otherwise (base64 has no '!').
  const mark = `!nonce-${randomBytes(8).toString('hex')}!`;
  const ops = recordHelmet(helmetMiddleware(publicUrl), mark);
  return ops.map((op) => {
    if ('remove' in op) return op;
    if (typeof op.value !== 'string' || !op.value.includes(mark)) return op;
    const parts = op.value.split(mark);
    if (parts.length !== 2) throw new Error(`the CSP nonce appears more than once in ${op.set}`);
    const [before, after] = parts as [string, string];
    return { set: op.set, before, after };
  });
}

/** Where the headers go: a Fastify reply as it is (no object per request on the hot path), or a sink adapted to it. */
interface HeaderTarget {
  header(name: string, value: string | number | readonly string[]): unknown;
  removeHeader(name: string): unknown;
}

/** The recorded operations, in order (on a Fastify reply: headers set on the raw response would lose to the reply's). */
function replayOn(target: HeaderTarget, replay: Replay, cspNonce: string): void {
  target.header('Cache-Control', 'no-store');
  for (const op of replay) {
    if ('remove' in op) target.removeHeader(op.remove);
    else if ('before' in op) target.header(op.set, op.before + cspNonce + op.after);
    else target.header(op.set, op.value);
  }
}

/** Nonces are drawn from a buffer of CSPRNG bytes refilled every 256: one `randomBytes` call per request was a visible share of the gateway's CPU. */
const NONCE_BYTES = 16;
const noncePool = Buffer.alloc(NONCE_BYTES * 256);
let nonceOffset = noncePool.length;

/** A fresh 128-bit nonce (base64), each from its own unused CSPRNG bytes. */
export function freshNonce(): string {
  if (nonceOffset === noncePool.length) {
    randomFillSync(noncePool);
    nonceOffset = 0;
  }
  const nonce = noncePool.toString('base64', nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

/** A header sink writing to a Fastify reply (headers set on the raw response would lose to the reply's). */
function sinkOf(reply: FastifyReply, locals: Record<string, unknown>): HeaderSink {
  return {
    locals,
    setHeader: (name, value) => reply.header(name, value),
    removeHeader: (name) => reply.removeHeader(name),
  };
}

/** The security headers on every answer of a Fastify app, first thing on every request (also a 404 or a refusal). */
export function installSecurityHeaders(fastify: FastifyInstance, publicUrl: string): void {
  const apply = securityHeadersOn(publicUrl);
  fastify.decorateReply('cspNonce', '');
  fastify.addHook('onRequest', (request, reply, done) => {
    apply(request, reply);
    done();
  });
}

/** Sets the security headers (and the nonce) on one reply: also for the answers Fastify gives before any hook. */
export function securityHeadersOn(publicUrl: string): (request: FastifyRequest, reply: FastifyReply) => void {
  const replay = replayOf(publicUrl);
  return (_request, reply) => {
    const cspNonce = freshNonce();
    reply.cspNonce = cspNonce;
    replayOn(reply, replay, cspNonce);
  };
}

/** Sets the page's CSP again, allowing its form's redirect to `origins` (the provider of a consent). */
export function allowFormRedirects(
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
  origins: string[],
): void {
  const sink = sinkOf(reply, { cspNonce: reply.cspNonce });
  helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: directives(publicUrl.startsWith('https:'), origins),
  })(request.raw, sink as unknown as ServerResponse, () => undefined);
}
