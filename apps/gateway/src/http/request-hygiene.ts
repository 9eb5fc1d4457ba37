import type { FastifyInstance } from 'fastify';
import { refuse, surfaceOf } from './surfaces';

/** Largest body read (after decompression: a small gzip bomb is stopped at this size too). */
export const BODY_LIMIT_BYTES = 100 * 1024;
/** Deepest JSON nesting accepted: no request of ours needs more than a few levels. */
export const MAX_BODY_DEPTH = 32;
/** Longest URL accepted (path and query). */
export const MAX_URL_LENGTH = 8 * 1024;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text PostgreSQL cannot store or that is not Unicode: a NUL character (PostgreSQL refuses it in
 * text and jsonb), or a lone UTF-16 surrogate (it would be stored as U+FFFD, silently changed).
 */
export function unstorableText(value: string): boolean {
  return value.includes('\u0000') || LONE_SURROGATE.test(value);
}

/** A request refused before its handler, answered in its surface's shape by the gateway's error filter. */
export class RefusedRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly where: string,
  ) {
    super(message);
  }
}

/**
 * Refuses, before routing, the bytes no handler should see: a URL that is too long, not valid
 * percent-encoding, or holds unstorable text; a body that cannot be read (too large, an unknown
 * or corrupt Content-Encoding or charset), is nested too deeply, or holds unstorable text.
 * Each refusal is a 4xx in the shape of the request's surface. A body that is not JSON at all is
 * left to the surface's exception filter. The body itself is read by `installBodyParsers`.
 */
export function installRequestHygiene(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const problem = urlProblem(request.url) ?? charsetProblem(request.headers['content-type']);
    if (problem) return refuse(reply, surfaceOf(request.method, pathOf(request.url)), ...problem);
    done();
  });
  fastify.addHook('preValidation', (request, reply, done) => {
    const problem = inspect(request.body);
    if (problem) return refuse(reply, surfaceOf(request.method, pathOf(request.url)), 400, problem, 'body');
    done();
  });
}

/** The path of a request target (before its query). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

type Problem = [status: number, message: string, where: string];

function urlProblem(url: string): Problem | undefined {
  if (url.length > MAX_URL_LENGTH)
    return [414, `The URL is longer than ${MAX_URL_LENGTH} characters.`, 'path'];
  const q = url.indexOf('?');
  let path: string;
  try {
    path = decodeURIComponent(q < 0 ? url : url.slice(0, q));
  } catch {
    return [400, 'The path is not valid percent-encoding.', 'path'];
  }
  if (unstorableText(path)) return [400, 'The path holds a NUL character or invalid Unicode.', 'path'];
  if (q >= 0) {
    for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
      if (unstorableText(name) || unstorableText(value))
        return [400, 'The query holds a NUL character or invalid Unicode.', 'query'];
    }
  }
  return undefined;
}

/**
 * JSON and forms are UTF-8 (RFC 8259 §8.1; the WHATWG form encoding): another declared charset is
 * refused (415) rather than decoded into text nobody sent.
 */
function charsetProblem(contentType: string | undefined): Problem | undefined {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    return [415, 'The charset is not supported (use utf-8).', 'body'];
  return undefined;
}

/** What is wrong with a parsed body, walked without recursion; undefined when nothing is. */
export function inspect(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object')
    return typeof body === 'string' && unstorableText(body)
      ? 'The body holds a NUL character or invalid Unicode.'
      : undefined;
  const stack: [unknown, number][] = [[body, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value === 'string') {
      if (unstorableText(value)) return 'The body holds a NUL character or invalid Unicode.';
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_BODY_DEPTH) return `The body is nested more than ${MAX_BODY_DEPTH} levels deep.`;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if (unstorableText(key)) return 'The body holds a NUL character or invalid Unicode.';
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}
