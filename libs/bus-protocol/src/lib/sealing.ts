import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CipherSuite } from '@hpke/core';
import type { ServiceKeyPair, ServicePublicKey } from './bus-keys';
import { busCipherSuite } from './hpke-suite';
import {
  REPLY_KEY_CONTEXT,
  ReplyBody,
  RequestBody,
  RequestEnvelope,
  WIRE_VERSION,
  replyAad,
  replyBodySchema,
  requestBodySchema,
  requestInfo,
} from './wire';

const REPLY_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

let suite: CipherSuite | undefined;
const cipherSuite = (): CipherSuite => (suite ??= busCipherSuite());

/** Why a request was not opened (counted and logged by the server, never answered). */
export type OpenFailure = 'malformed' | 'unknown-key' | 'unopenable';

export class RequestOpenError extends Error {
  constructor(readonly reason: OpenFailure) {
    super(`bus request not opened: ${reason}`);
    this.name = 'RequestOpenError';
  }
}

/** Seals a request to the target service's key; the reply key stays with the caller. */
export async function sealRequest(
  listKey: string,
  target: ServicePublicKey,
  head: { id: string; pattern: string; deadline: number; replyChannel?: string },
  body: RequestBody,
): Promise<{ envelope: RequestEnvelope; replyKey: Buffer }> {
  const facts = { i: head.id, p: head.pattern, d: head.deadline, ...(head.replyChannel ? { r: head.replyChannel } : {}) };
  const sender = await cipherSuite().createSenderContext({
    recipientPublicKey: target.publicKey as never,
    info: requestInfo(listKey, target.kid, facts),
  });
  const sealed = await sender.seal(Buffer.from(JSON.stringify(body), 'utf8'));
  const replyKey = Buffer.from(await sender.export(REPLY_KEY_CONTEXT, REPLY_KEY_BYTES));
  return {
    envelope: { v: WIRE_VERSION, ...facts, k: target.kid, e: Buffer.from(sender.enc).toString('base64url'), s: Buffer.from(sealed).toString('base64url') },
    replyKey,
  };
}

/**
 * Opens a request with the service's key pair its `k` names. Fails (RequestOpenError) for an
 * unknown key id, anything altered (a routing fact, the body) and anything not sealed to us.
 */
export async function openRequest(
  listKey: string,
  keys: ReadonlyMap<string, ServiceKeyPair>,
  envelope: RequestEnvelope,
): Promise<{ body: RequestBody; replyKey: Buffer }> {
  const pair = keys.get(envelope.k);
  if (!pair) throw new RequestOpenError('unknown-key');
  let plaintext: Buffer;
  let replyKey: Buffer;
  try {
    const recipient = await cipherSuite().createRecipientContext({
      recipientKey: { privateKey: pair.privateKey, publicKey: pair.publicKey } as never,
      enc: Buffer.from(envelope.e, 'base64url'),
      info: requestInfo(listKey, envelope.k, envelope),
    });
    plaintext = Buffer.from(await recipient.open(Buffer.from(envelope.s, 'base64url')));
    replyKey = Buffer.from(await recipient.export(REPLY_KEY_CONTEXT, REPLY_KEY_BYTES));
  } catch {
    throw new RequestOpenError('unopenable');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw new RequestOpenError('malformed');
  }
  const body = requestBodySchema.safeParse(parsed);
  if (!body.success) throw new RequestOpenError('malformed');
  return { body: body.data, replyKey };
}

/** Seals a reply under the request's reply key (AES-256-GCM, bound to the request id). */
export function sealReply(replyKey: Buffer, id: string, body: ReplyBody): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', replyKey, nonce);
  cipher.setAAD(replyAad(id));
  const ct = Buffer.concat([cipher.update(JSON.stringify(body), 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, ct, cipher.getAuthTag()]).toString('base64url');
}

/** Opens a reply; throws for anything not sealed under this request's key (a forged reply). */
export function openReply(replyKey: Buffer, id: string, sealed: string): ReplyBody {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new Error('sealed reply too short');
  const decipher = createDecipheriv('aes-256-gcm', replyKey, raw.subarray(0, NONCE_BYTES));
  decipher.setAAD(replyAad(id));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  const plaintext = Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
  return replyBodySchema.parse(JSON.parse(plaintext.toString('utf8'))) as ReplyBody;
}
