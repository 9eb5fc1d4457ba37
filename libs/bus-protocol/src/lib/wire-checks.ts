import type { ZodType } from 'zod';
import {
  ReplyBody,
  ReplyMessage,
  RequestBody,
  RequestEnvelope,
  WIRE_VERSION,
  replyBodySchema,
  replyMessageSchema,
  requestBodySchema,
  requestEnvelopeSchema,
} from './wire';

/**
 * The wire schemas' checks on the hot path. Every bus request and reply is parsed by the zod
 * schemas of wire.ts; on the common case (a well-formed message) a hand-written check that is at
 * least as strict as the schema answers first, and anything it does not accept goes to the schema,
 * whose verdict stands. So a message is accepted exactly when its schema accepts it (the fast
 * check can only say yes to what the schema would also say yes to: test/wire-checks.spec.ts checks
 * this on random and hostile input), and every rejection is the schema's.
 *
 * Why: the schemas cost ≈ 10 % of a request's CPU in the profile (zod's strict-object walk, a
 * copy of each object, the regexes), three times per round trip.
 */

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True when every own key of `value` is one of `allowed` (strict objects). */
function onlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key of Object.keys(value)) if (!allowed.has(key)) return false;
  return true;
}

const stringOf = (value: unknown, min: number, max: number): value is string =>
  typeof value === 'string' && value.length >= min && value.length <= max;

const ENVELOPE_KEYS = new Set(['v', 'i', 'p', 'd', 'r', 'k', 'e', 's']);
function looksLikeEnvelope(value: unknown): value is RequestEnvelope {
  if (!isPlainObject(value) || !onlyKeys(value, ENVELOPE_KEYS)) return false;
  const { v, i, p, d, r, k, e, s } = value;
  return (
    v === WIRE_VERSION &&
    typeof i === 'string' &&
    ID.test(i) &&
    stringOf(p, 1, 128) &&
    typeof d === 'number' &&
    Number.isSafeInteger(d) &&
    d > 0 &&
    (!('r' in value) || stringOf(r, 1, 256)) &&
    stringOf(k, 1, 32) &&
    stringOf(e, 1, 64) &&
    B64URL.test(e) &&
    stringOf(s, 1, 4_000_000) &&
    B64URL.test(s)
  );
}

const BODY_KEYS = new Set(['data', 'auth', 'tp']);
function looksLikeRequestBody(value: unknown): value is RequestBody {
  if (!isPlainObject(value) || !onlyKeys(value, BODY_KEYS) || !('data' in value)) return false;
  return (
    (!('auth' in value) || stringOf(value['auth'], 0, 16_384)) &&
    (!('tp' in value) || stringOf(value['tp'], 0, 128))
  );
}

const REPLY_MESSAGE_KEYS = new Set(['i', 's']);
function looksLikeReplyMessage(value: unknown): value is ReplyMessage {
  if (!isPlainObject(value) || !onlyKeys(value, REPLY_MESSAGE_KEYS)) return false;
  const { i, s } = value;
  return typeof i === 'string' && ID.test(i) && stringOf(s, 1, 8_000_000) && B64URL.test(s);
}

const OK_REPLY_KEYS = new Set(['ok', 'data']);
/** Only the success shape is checked by hand; errors are rare and go to the schema. */
function looksLikeOkReply(value: unknown): value is ReplyBody {
  return isPlainObject(value) && value['ok'] === true && 'data' in value && onlyKeys(value, OK_REPLY_KEYS);
}

function checked<T>(
  fast: (value: unknown) => value is T,
  schema: ZodType,
): (value: unknown) => T | undefined {
  return (value) => {
    if (fast(value)) return value;
    const parsed = schema.safeParse(value);
    return parsed.success ? (parsed.data as T) : undefined;
  };
}

/** A request envelope as `requestEnvelopeSchema` accepts it, or undefined. */
export const parseRequestEnvelope = checked(looksLikeEnvelope, requestEnvelopeSchema);
/** A request's opened body as `requestBodySchema` accepts it, or undefined. */
export const parseRequestBody = checked(looksLikeRequestBody, requestBodySchema);
/** A reply channel message as `replyMessageSchema` accepts it, or undefined. */
export const parseReplyMessage = checked(looksLikeReplyMessage, replyMessageSchema);
/** An opened reply body as `replyBodySchema` accepts it, or undefined. */
export const parseReplyBody = checked(looksLikeOkReply, replyBodySchema);

/** The hand checks alone (for the test that holds them to their schemas). */
export const fastChecks = {
  looksLikeEnvelope,
  looksLikeRequestBody,
  looksLikeReplyMessage,
  looksLikeOkReply,
};
