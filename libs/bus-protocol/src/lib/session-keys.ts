import type { CipherSuite } from '@hpke/core';
import type { ServiceKeyPair } from './bus-keys';
import { busCipherSuite } from './hpke-suite';
import { REPLY_KEY_CONTEXT, REQUEST_KEY_CONTEXT, sessionInfo } from './wire';

/** Bytes of each secret exported from an HPKE session (an AES-256 key). */
export const KEY_BYTES = 32;

let suite: CipherSuite | undefined;
export const cipherSuite = (): CipherSuite => (suite ??= busCipherSuite());

export interface SessionSecrets {
  requestKey: Buffer;
  replyBase: Buffer;
}

export interface SenderSession extends SessionSecrets {
  enc: string;
  until: number;
  left: number;
}

const pairNames = new WeakMap<ServiceKeyPair, string>();

/** The serving side: the secrets of recent sessions by service key and `enc` (bounded, oldest out first). */
export class SessionKeys {
  private readonly known = new Map<string, SessionSecrets>();

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.known.size;
  }

  /** The session's secrets, set up from the service's key pair when not known yet (not remembered until a request opens with them). */
  async secrets(
    pair: ServiceKeyPair,
    listKey: string,
    enc: string,
  ): Promise<{ secrets: SessionSecrets; remember: () => void }> {
    // Keyed by the key pair itself (not its id): a session is only ever found again with the key that opened it.
    let pairName = pairNames.get(pair);
    if (pairName === undefined) pairNames.set(pair, (pairName = pair.publicKey.raw.toString('base64url')));
    const name = `${pairName}\u0000${enc}`;
    const hit = this.known.get(name);
    if (hit) return { secrets: hit, remember: () => undefined };
    const recipient = await cipherSuite().createRecipientContext({
      recipientKey: { privateKey: pair.privateKey, publicKey: pair.publicKey } as never,
      enc: Buffer.from(enc, 'base64url'),
      info: sessionInfo(listKey, pair.kid),
    });
    const secrets = {
      requestKey: Buffer.from(await recipient.export(REQUEST_KEY_CONTEXT, KEY_BYTES)),
      replyBase: Buffer.from(await recipient.export(REPLY_KEY_CONTEXT, KEY_BYTES)),
    };
    return {
      secrets,
      remember: () => {
        if (this.known.size >= this.max) this.known.delete(this.known.keys().next().value as string);
        this.known.set(name, secrets);
      },
    };
  }
}
