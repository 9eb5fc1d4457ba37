import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import qs from 'qs';
import { BODY_LIMIT_BYTES, RefusedRequest, pathOf } from './request-hygiene';
import { surfaceOf } from './surfaces';

/** Most fields a form may have (a token request has a handful). */
export const MAX_FORM_FIELDS = 100;

const TOO_LARGE = `The body is larger than ${BODY_LIMIT_BYTES / 1024} KiB.`;
const UNREADABLE = 'The body cannot be read (does it match its Content-Encoding and Content-Length?).';

/**
 * The gateway's two body types, read as body-parser read them under Express (same limits, same
 * results, so handlers and the e2e contract see the same bodies): JSON (an object or an array;
 * an empty body is `{}`) and forms (flat fields, repeated names become arrays), each UTF-8 and at
 * most BODY_LIMIT_BYTES after decompression (gzip, deflate, br or none). A body of another type is
 * not read at all and the handler sees none, as before. What cannot be read is a RefusedRequest
 * (answered in the surface's shape); JSON that does not parse is a SyntaxError, which each surface's
 * filter words without echoing it.
 */
export function installBodyParsers(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  // Async parsers: whatever they throw (a SyntaxError, a RefusedRequest) goes to the error handler.
  fastify.addContentTypeParser(
    'application/json',
    async (request: FastifyRequest, payload: IncomingMessage) =>
      parseJson(request, await readBody(request, payload)),
  );
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    async (request: FastifyRequest, payload: IncomingMessage) => parseForm(await readBody(request, payload)),
  );
  // Any other type (or none): left unread, no body — as Express' parsers did.
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
}

function parseJson(request: FastifyRequest, text: string): unknown {
  if (text.length === 0) return {};
  // body-parser's strict mode: only an object or an array is a JSON body.
  const first = text.trimStart().charAt(0);
  try {
    if (first !== '{' && first !== '[') throw new SyntaxError('not a JSON object or array');
    return JSON.parse(text) as unknown;
  } catch (err) {
    // A page is answered a page; the API surfaces' filters word a SyntaxError in their own shape.
    if (surfaceOf(request.method, pathOf(request.url)) === 'page')
      throw new RefusedRequest(400, 'The form could not be read.', 'body');
    // Nest maps a SyntaxError with body-parser's `status: 400` to a BadRequestException (others are 500s).
    throw Object.assign(err instanceof SyntaxError ? err : new SyntaxError('not JSON'), { status: 400 });
  }
}

function parseForm(text: string): unknown {
  if (text.length === 0) return {};
  let fields = 1;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1))
    if (++fields > MAX_FORM_FIELDS) throw new RefusedRequest(413, 'The form has too many fields.', 'body');
  // Flat fields (no `a[b]` nesting), as body-parser's `extended: false`.
  return qs.parse(text, {
    allowPrototypes: true,
    arrayLimit: fields,
    depth: 0,
    parameterLimit: MAX_FORM_FIELDS,
    strictDepth: true,
  });
}

/** The body as UTF-8 text, decompressed, at most BODY_LIMIT_BYTES; a RefusedRequest otherwise. */
function readBody(request: FastifyRequest, payload: IncomingMessage): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
    const declared = Number(request.headers['content-length']);
    if (encoding === 'identity' && declared > BODY_LIMIT_BYTES) {
      payload.resume();
      return reject(new RefusedRequest(413, TOO_LARGE, 'body'));
    }
    let stream: Readable;
    switch (encoding) {
      case 'identity':
        stream = payload;
        break;
      case 'gzip':
        stream = payload.pipe(createGunzip());
        break;
      case 'deflate':
        stream = payload.pipe(createInflate());
        break;
      case 'br':
        stream = payload.pipe(createBrotliDecompress());
        break;
      default:
        payload.resume();
        return reject(
          new RefusedRequest(
            415,
            'The Content-Encoding is not supported (use gzip, deflate, br or none).',
            'body',
          ),
        );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: RefusedRequest) => {
      if (settled) return;
      settled = true;
      if (stream !== payload) stream.destroy();
      payload.resume();
      reject(err);
    };
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT_BYTES) return fail(new RefusedRequest(413, TOO_LARGE, 'body'));
      chunks.push(chunk);
    });
    stream.on('error', () => fail(new RefusedRequest(400, UNREADABLE, 'body')));
    payload.on('aborted', () => fail(new RefusedRequest(400, UNREADABLE, 'body')));
    stream.on('end', () => {
      if (settled) return;
      settled = true;
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
  });
}
