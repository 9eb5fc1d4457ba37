import type { NextFunction, Request, Response } from 'express';
import type { NestExpressApplication } from '@nestjs/platform-express';
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

/**
 * Refuses, before routing, the bytes no handler should see: a URL that is too long, not valid
 * percent-encoding, or holds unstorable text; a body that cannot be read (too large, an unknown
 * or corrupt Content-Encoding or charset), is nested too deeply, or holds unstorable text.
 * Each refusal is a 4xx in the shape of the request's surface. A body that is not JSON at all is
 * left to the surface's exception filter.
 */
export function installRequestHygiene(app: NestExpressApplication): void {
  app.use(checkUrl);
  app.use(checkCharset);
  app.useBodyParser('json', { limit: BODY_LIMIT_BYTES });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT_BYTES, extended: false, parameterLimit: 100 });
  app.use(bodyReadErrors);
  app.use(checkBody);
}

function checkUrl(req: Request, res: Response, next: NextFunction): void {
  const url = req.originalUrl ?? req.url;
  const surface = surfaceOf(req.method, req.path);
  if (url.length > MAX_URL_LENGTH)
    return refuse(res, surface, 414, `The URL is longer than ${MAX_URL_LENGTH} characters.`, 'path');
  const q = url.indexOf('?');
  let path: string;
  try {
    path = decodeURIComponent(q < 0 ? url : url.slice(0, q));
  } catch {
    return refuse(res, surface, 400, 'The path is not valid percent-encoding.', 'path');
  }
  if (unstorableText(path))
    return refuse(res, surface, 400, 'The path holds a NUL character or invalid Unicode.', 'path');
  if (q >= 0) {
    for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
      if (unstorableText(name) || unstorableText(value))
        return refuse(res, surface, 400, 'The query holds a NUL character or invalid Unicode.', 'query');
    }
  }
  next();
}

/**
 * JSON and forms are UTF-8 (RFC 8259 §8.1; the WHATWG form encoding): another declared charset is
 * refused (415) rather than decoded into text nobody sent.
 */
function checkCharset(req: Request, res: Response, next: NextFunction): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i
    .exec(req.headers['content-type'] ?? '')?.[1]
    ?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return refuse(
      res,
      surfaceOf(req.method, req.path),
      415,
      'The charset is not supported (use utf-8).',
      'body',
    );
  }
  next();
}

/** body-parser's errors (they carry a 4xx `status` and a `type`, or wrap a zlib error with a status only). */
function bodyReadErrors(err: unknown, req: Request, res: Response, next: NextFunction): void {
  const e = err as { status?: unknown; statusCode?: unknown; type?: unknown };
  const status =
    typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  const surface = surfaceOf(req.method, req.path);
  // Not JSON at all: the API surface's own filter words it (and never echoes the body); a page answers a page.
  if ((e?.type === 'entity.parse.failed' && surface !== 'page') || status === undefined || status >= 500)
    return next(err);
  const message =
    e.type === 'entity.too.large'
      ? `The body is larger than ${BODY_LIMIT_BYTES / 1024} KiB.`
      : e.type === 'encoding.unsupported'
        ? 'The Content-Encoding is not supported (use gzip, deflate, br or none).'
        : e.type === 'charset.unsupported'
          ? 'The charset is not supported (use utf-8).'
          : e.type === 'entity.parse.failed'
            ? 'The form could not be read.'
            : e.type === 'parameters.too.many'
              ? 'The form has too many fields.'
              : 'The body cannot be read (does it match its Content-Encoding and Content-Length?).';
  refuse(res, surface, status, message, 'body');
}

function checkBody(req: Request, res: Response, next: NextFunction): void {
  const problem = inspect(req.body);
  if (problem) return refuse(res, surfaceOf(req.method, req.path), 400, problem, 'body');
  next();
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
