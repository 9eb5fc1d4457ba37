import * as fc from 'fast-check';
import type { ZodType } from 'zod';
import {
  fastChecks,
  parseReplyBody,
  parseReplyMessage,
  parseRequestBody,
  parseRequestEnvelope,
  replyBodySchema,
  replyMessageSchema,
  requestBodySchema,
  requestEnvelopeSchema,
} from '../src';

// The hot path's hand checks may only accept what the wire schemas accept; everything else goes to
// the schema. Held to that on valid messages, on valid messages with one field changed to anything,
// and on arbitrary JSON.

const envelope = {
  v: 2,
  i: '0b6c3a0e-4f4e-4d1e-9b55-0f3b2f1a9c11.1z',
  p: 'tokens.acquire',
  d: Date.now() + 5_000,
  r: 'broker:bus:reply:app:0b6c3a0e',
  k: 'k1',
  e: 'Xq3dX2W1t0aVQkF8cJfH1nq5h8e9a0bB7d6c5e4f3g2',
  s: 'AAAA-_zz',
};
const replyMessage = { i: envelope.i, s: 'AAAA-_zz' };
const requestBody = { data: { authorizationId: 'a' }, auth: 'token' };
const okReply = { ok: true, data: { accessToken: 'x' } };

const hostileValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    undefined,
    NaN,
    Infinity,
    -1,
    0,
    1.5,
    2 ** 53,
    '',
    ' ',
    'a'.repeat(300),
    '=',
    'ab==',
    'é',
    '\u0000',
    [],
    {},
    null,
    true,
  ),
  fc.string(),
  fc.integer(),
);

function holdsTo(
  name: string,
  fast: (v: unknown) => boolean,
  parse: (v: unknown) => unknown,
  schema: ZodType,
  valid: Record<string, unknown>,
): void {
  describe(name, () => {
    it('accepts the valid message by hand, as its schema does', () => {
      expect(fast(valid)).toBe(true);
      expect(schema.safeParse(valid).success).toBe(true);
    });

    it('never accepts by hand what the schema refuses, with any one field changed, added or removed', () => {
      const keys = [...Object.keys(valid), 'extra', '__proto__', 'constructor'];
      fc.assert(
        fc.property(fc.constantFrom(...keys), hostileValue, fc.boolean(), (key, value, remove) => {
          const changed: Record<string, unknown> = JSON.parse(JSON.stringify(valid));
          if (remove) delete changed[key];
          else
            Object.defineProperty(changed, key, {
              value,
              enumerable: true,
              configurable: true,
              writable: true,
            });
          const verdict = schema.safeParse(changed).success;
          if (fast(changed)) expect(verdict).toBe(true);
          expect(parse(changed) !== undefined).toBe(verdict);
        }),
        { numRuns: 2_000 },
      );
    });

    it('never accepts by hand what the schema refuses, on any JSON', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          const verdict = schema.safeParse(value).success;
          if (fast(value)) expect(verdict).toBe(true);
          expect(parse(value) !== undefined).toBe(verdict);
        }),
        { numRuns: 2_000 },
      );
    });
  });
}

holdsTo(
  'request envelope',
  fastChecks.looksLikeEnvelope,
  parseRequestEnvelope,
  requestEnvelopeSchema,
  envelope,
);
holdsTo('request body', fastChecks.looksLikeRequestBody, parseRequestBody, requestBodySchema, requestBody);
holdsTo(
  'reply message',
  fastChecks.looksLikeReplyMessage,
  parseReplyMessage,
  replyMessageSchema,
  replyMessage,
);
holdsTo('reply body', fastChecks.looksLikeOkReply, parseReplyBody, replyBodySchema, okReply);

it('an envelope without a reply channel (an event) is accepted by hand too', () => {
  const event: Partial<typeof envelope> = { ...envelope };
  delete event.r;
  expect(fastChecks.looksLikeEnvelope(event)).toBe(true);
  expect(requestEnvelopeSchema.safeParse(event).success).toBe(true);
});
