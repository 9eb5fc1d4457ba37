import type { ServicePublicKey } from './bus-keys';
import { aesSeal, replyKeyFor } from './aead';
import { KEY_BYTES, SenderSession, cipherSuite } from './session-keys';
import {
  REPLY_KEY_CONTEXT,
  REQUEST_KEY_CONTEXT,
  RequestBody,
  RequestEnvelope,
  WIRE_VERSION,
  requestAad,
  sessionInfo,
} from './wire';

export const SESSION_MAX_AGE_MS = 10 * 60_000;
export const SESSION_MAX_REQUESTS = 100_000;

/** A target's name among a sealer's sessions (its key id and key bytes), computed once per parsed key. */
const targetNames = new WeakMap<ServicePublicKey, string>();
function targetName(listKey: string, target: ServicePublicKey): string {
  let name = targetNames.get(target);
  if (name === undefined)
    targetNames.set(target, (name = `${target.kid}\u0000${target.publicKey.raw.toString('base64url')}`));
  return `${listKey}\u0000${name}`;
}

/** The calling side: one session per target key, renewed by age and use. Each client instance has its own. */
export class RequestSealer {
  private readonly sessions = new Map<string, Promise<SenderSession>>();
  /** The sessions set up and still usable, for sealing without waiting on a promise. */
  private readonly ready = new Map<string, SenderSession>();

  constructor(
    private readonly maxAgeMs = SESSION_MAX_AGE_MS,
    private readonly maxRequests = SESSION_MAX_REQUESTS,
  ) {}

  /** Seals a request to the target service's key; the reply key stays with the caller. */
  async seal(
    listKey: string,
    target: ServicePublicKey,
    head: { id: string; pattern: string; deadline: number; replyChannel?: string },
    body: RequestBody,
  ): Promise<{ envelope: RequestEnvelope; replyKey: Buffer }> {
    const name = targetName(listKey, target);
    let session = this.usable(name, Date.now());
    if (!session) session = await this.session(name, listKey, target);
    session.left--;
    const facts: Pick<RequestEnvelope, 'i' | 'p' | 'd' | 'r'> = head.replyChannel
      ? { i: head.id, p: head.pattern, d: head.deadline, r: head.replyChannel }
      : { i: head.id, p: head.pattern, d: head.deadline };
    const s = aesSeal(
      session.requestKey,
      Buffer.from(JSON.stringify(body), 'utf8'),
      requestAad(listKey, target.kid, session.enc, facts),
    );
    return {
      envelope: { v: WIRE_VERSION, ...facts, k: target.kid, e: session.enc, s },
      replyKey: replyKeyFor(session.replyBase, head.id),
    };
  }

  private usable(name: string, now: number): SenderSession | undefined {
    const session = this.ready.get(name);
    if (session === undefined) return undefined;
    if (session.until > now && session.left > 0) return session;
    this.ready.delete(name);
    return undefined;
  }

  private async session(name: string, listKey: string, target: ServicePublicKey): Promise<SenderSession> {
    const current = this.sessions.get(name);
    if (current) {
      const session = await current;
      if (session.until > Date.now() && session.left > 0) return session;
      if (this.sessions.get(name) === current) this.sessions.delete(name);
    }
    let next = this.sessions.get(name);
    if (!next) {
      next = setUpSession(listKey, target, this.maxAgeMs, this.maxRequests);
      this.sessions.set(name, next);
      next.then(
        (session) => {
          if (this.sessions.get(name) === next) this.ready.set(name, session);
        },
        () => this.sessions.delete(name),
      );
    }
    return next;
  }
}

async function setUpSession(
  listKey: string,
  target: ServicePublicKey,
  maxAgeMs: number,
  maxRequests: number,
): Promise<SenderSession> {
  const sender = await cipherSuite().createSenderContext({
    recipientPublicKey: target.publicKey as never,
    info: sessionInfo(listKey, target.kid),
  });
  return {
    enc: Buffer.from(sender.enc).toString('base64url'),
    requestKey: Buffer.from(await sender.export(REQUEST_KEY_CONTEXT, KEY_BYTES)),
    replyBase: Buffer.from(await sender.export(REPLY_KEY_CONTEXT, KEY_BYTES)),
    until: Date.now() + maxAgeMs,
    left: maxRequests,
  };
}
