import { KeyObject, sign, verify } from 'node:crypto';
import { z } from 'zod';
import { BusEvent, busEventSchema } from '@broker/contracts';
import type { EventSigningKey } from './bus-keys';

/**
 * Broker events on `<prefix>:events` are signed (Ed25519) by the broker's publishers, each with
 * its own key (the token-broker and the worker: authorization events; the provider-registry:
 * provider change notices); subscribers are given only the public halves, so neither they nor
 * anyone else on Redis can publish an event they would act on.
 */
const signedEventSchema = z.strictObject({
  v: z.literal(1),
  /** Signing key id. */
  k: z.string().min(1).max(32),
  /** The event, as the JSON text that was signed. */
  e: z.string().min(2).max(8_192),
  /** Ed25519 signature (base64url). */
  s: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
});

/** Events whose `at` is further than this from now are refused (a replay of an old event). */
export const EVENT_MAX_AGE_MS = 10 * 60_000;

const signedBytes = (kid: string, eventJson: string) =>
  Buffer.from(`oauth-broker/events/1|${kid}|${eventJson}`, 'utf8');

/** The message to publish for an event, signed with the broker's key. */
export function signEvent(key: EventSigningKey, event: BusEvent): string {
  const e = JSON.stringify(event);
  return JSON.stringify({
    v: 1,
    k: key.kid,
    e,
    s: sign(null, signedBytes(key.kid, e), key.privateKey).toString('base64url'),
  });
}

export type EventRejection = 'malformed' | 'unknown-key' | 'bad-signature' | 'invalid-event' | 'stale';

/** Checks a message of the events channel: the event when it is genuine and fresh, else why not. */
export function verifyEvent(
  keys: ReadonlyMap<string, KeyObject>,
  raw: string,
  now = Date.now(),
): { ok: true; event: BusEvent } | { ok: false; reason: EventRejection } {
  let message: z.infer<typeof signedEventSchema>;
  try {
    const parsed = signedEventSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) return { ok: false, reason: 'malformed' };
    message = parsed.data;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const key = keys.get(message.k);
  if (!key) return { ok: false, reason: 'unknown-key' };
  if (!verify(null, signedBytes(message.k, message.e), key, Buffer.from(message.s, 'base64url')))
    return { ok: false, reason: 'bad-signature' };
  let event: BusEvent;
  try {
    const parsed = busEventSchema.safeParse(JSON.parse(message.e));
    if (!parsed.success) return { ok: false, reason: 'invalid-event' };
    event = parsed.data;
  } catch {
    return { ok: false, reason: 'invalid-event' };
  }
  if (Math.abs(now - Date.parse(event.at)) > EVENT_MAX_AGE_MS) return { ok: false, reason: 'stale' };
  return { ok: true, event };
}
