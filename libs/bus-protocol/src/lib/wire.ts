import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The bus's wire format (version 2). A request is an entry of the target service's request list:
 * routing facts in clear (what a replica needs to pick its key and drop what is late), the body
 * sealed under a key exported from the caller's HPKE session with the service (see sealing.ts),
 * every routing fact bound as associated data. A reply is published on the caller's own channel,
 * sealed under a per-request key from the same session: only the caller and a holder of the
 * service's private key can derive it.
 */
export const WIRE_VERSION = 2;

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

export const requestEnvelopeSchema = z.strictObject({
  v: z.literal(WIRE_VERSION),
  /** Request id: unique per call, bound into the sealed part. */
  i: z.string().regex(ID),
  /** Message pattern. */
  p: z.string().min(1).max(128),
  /** Deadline (epoch ms): past it the caller has given up and the request is dropped unhandled. */
  d: z.number().int().positive(),
  /** Reply channel of the calling instance; absent for events (no reply). */
  r: z.string().min(1).max(256).optional(),
  /** Id of the service key the body is sealed to. */
  k: z.string().min(1).max(32),
  /** The caller's HPKE session: its encapsulated key (base64url). */
  e: z.string().regex(B64URL).max(64),
  /** AES-256-GCM (nonce | ciphertext | tag, base64url) of the RequestBody under the session's request key. */
  s: z.string().regex(B64URL).max(4_000_000),
});
export type RequestEnvelope = z.infer<typeof requestEnvelopeSchema>;

/** The sealed part of a request. */
export const requestBodySchema = z.strictObject({
  data: z.unknown(),
  /**
   * The caller's bearer token, verified by the receiving service. An empty one is let through to
   * be refused there (UNAUTHENTICATED): a body failing this schema is dropped unanswered, and a
   * caller with a bad token must get an answer, not its timeout.
   */
  auth: z.string().max(16_384).optional(),
  /** W3C traceparent of the caller's span (tracing); only read as a hint: a malformed one starts a new trace. */
  tp: z.string().max(128).optional(),
});
export type RequestBody = z.infer<typeof requestBodySchema>;

/** What is published on the caller's reply channel. */
export const replyMessageSchema = z.strictObject({
  i: z.string().regex(ID),
  /** AES-256-GCM (nonce | ciphertext | tag, base64url) of the ReplyBody under the request's reply key. */
  s: z.string().regex(B64URL).max(8_000_000),
});
export type ReplyMessage = z.infer<typeof replyMessageSchema>;

export interface WireError {
  code: string;
  message: string;
  fields?: { name: string; message: string }[];
}

/** Sizes of an error reply (what a caller's schema accepts). */
const ERROR_LIMITS = { code: 64, message: 4096, fields: 200, fieldName: 512, fieldMessage: 1024 } as const;

export const replyBodySchema = z.union([
  z.strictObject({ ok: z.literal(true), data: z.unknown() }),
  z.strictObject({
    ok: z.literal(false),
    error: z.strictObject({
      code: z.string().min(1).max(ERROR_LIMITS.code),
      message: z.string().max(ERROR_LIMITS.message),
      fields: z
        .array(
          z.strictObject({
            name: z.string().max(ERROR_LIMITS.fieldName),
            message: z.string().max(ERROR_LIMITS.fieldMessage),
          }),
        )
        .max(ERROR_LIMITS.fields)
        .optional(),
    }),
  }),
]);

/**
 * An error cut to the sizes the caller's reply schema accepts. A service answers with it: an
 * error that names hostile input (an unknown field name of 2 000 characters) would otherwise fail
 * the caller's schema, be taken for a forged reply and end in the caller's timeout instead of its
 * BAD_REQUEST.
 */
export function boundedError(error: WireError): WireError {
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
  const bounded: WireError = {
    code: error.code.slice(0, ERROR_LIMITS.code) || 'INTERNAL',
    message: cut(error.message, ERROR_LIMITS.message),
  };
  if (error.fields) {
    bounded.fields = error.fields.slice(0, ERROR_LIMITS.fields).map((f) => ({
      name: cut(f.name, ERROR_LIMITS.fieldName),
      message: cut(f.message, ERROR_LIMITS.fieldMessage),
    }));
  }
  return bounded;
}
export type ReplyBody = { ok: true; data: unknown } | { ok: false; error: WireError };

/** Redis list from which a service's replicas pop their bus requests. */
export function requestListKey(prefix: string, service: string): string {
  return `${prefix}:bus:req:${service}`;
}

/**
 * Redis pub/sub channel of one client instance. The client's name comes first so that a Redis ACL
 * can give each consumer `&<prefix>:bus:reply:<name>:*` and nothing else.
 */
export function replyChannel(prefix: string, name: string, clientId: string): string {
  if (!NAME.test(name))
    throw new Error(`bus client name '${name}': letters, digits, _ . - only (at most 64)`);
  return `${prefix}:bus:reply:${name}:${clientId}`;
}

/** Marker key of a request id already acted on (a hash: the key says nothing about the request). */
export function seenKey(prefix: string, service: string, requestId: string): string {
  return `${prefix}:bus:seen:${service}:${createHash('sha256').update(requestId).digest('base64url').slice(0, 32)}`;
}

/** The HPKE `info` of a caller's session with a service: the request list and the service key it is for. */
export function sessionInfo(listKey: string, kid: string): Buffer {
  return Buffer.from(JSON.stringify(['oauth-broker/bus/2/session', listKey, kid]), 'utf8');
}

/**
 * Associated data of a sealed request: every routing fact (and the session it belongs to), so a
 * request moved to another list, renamed, re-dated or pointed at another reply channel does not open.
 */
export function requestAad(
  listKey: string,
  kid: string,
  enc: string,
  envelope: Pick<RequestEnvelope, 'i' | 'p' | 'd' | 'r'>,
): Buffer {
  return Buffer.from(
    JSON.stringify([
      'oauth-broker/bus/2/request',
      listKey,
      kid,
      enc,
      envelope.p,
      envelope.i,
      envelope.d,
      envelope.r ?? null,
    ]),
    'utf8',
  );
}

/** Exporter contexts (RFC 9180 §5.3) of a session's request key and reply base key. */
export const REQUEST_KEY_CONTEXT = Buffer.from('oauth-broker/bus/2/request-key', 'utf8');
export const REPLY_KEY_CONTEXT = Buffer.from('oauth-broker/bus/2/reply-key', 'utf8');

/** Associated data binding a sealed reply to its request id. */
export function replyAad(id: string): Buffer {
  return Buffer.from(`oauth-broker/bus/2/reply|${id}`, 'utf8');
}
