import {
  RequestOpenError,
  RequestSealer,
  SessionKeys,
  generateEventSigningKey,
  generateServiceKey,
  openReply,
  openRequest,
  parseEventPublicKeys,
  parseEventSigningKey,
  parseServicePrivateKeys,
  parseServicePublicKeys,
  requestListKey,
  sealReply,
  sealRequest,
  signEvent,
  verifyEvent,
} from '../src';

const LIST = requestListKey('p', 'token-broker');

describe('sealed requests and replies', () => {
  const current = generateServiceKey('k2');
  const previous = generateServiceKey('k1');
  const keys = new Map(
    parseServicePrivateKeys(`${current.privateKey},${previous.privateKey}`).map((k) => [k.kid, k]),
  );
  const publicKeys = parseServicePublicKeys(`token-broker=${current.publicKey}`);
  const head = {
    id: 'c1.0',
    pattern: 'tokens.acquire',
    deadline: Date.now() + 5_000,
    replyChannel: 'p:bus:reply:app:c1',
  };
  const body = { data: { authorizationId: 'a1' }, auth: 'bearer-token' };

  it('opens a request sealed to the current or the previous key, with the same reply key on both ends', async () => {
    for (const key of [
      publicKeys['token-broker'],
      parseServicePublicKeys(`token-broker=${previous.publicKey}`)['token-broker'],
    ]) {
      const { envelope, replyKey } = await sealRequest(LIST, key, head, body);
      expect(envelope).toMatchObject({
        v: 2,
        i: head.id,
        p: head.pattern,
        d: head.deadline,
        r: head.replyChannel,
        k: key.kid,
      });
      expect(JSON.stringify(envelope)).not.toContain('bearer-token');
      const opened = await openRequest(LIST, keys, envelope);
      expect(opened.body).toEqual(body);
      expect(opened.replyKey.equals(replyKey)).toBe(true);
    }
  });

  it('does not open a request whose routing facts were changed, moved to another list, or sealed to an unknown key', async () => {
    const { envelope } = await sealRequest(LIST, publicKeys['token-broker'], head, body);
    const changes = [
      { r: 'p:bus:reply:attacker:x' },
      { i: 'c1.1' },
      { p: 'providers.credentials' },
      { d: head.deadline + 1 },
    ];
    for (const change of changes) {
      await expect(openRequest(LIST, keys, { ...envelope, ...change })).rejects.toEqual(
        new RequestOpenError('unopenable'),
      );
    }
    await expect(openRequest(requestListKey('p', 'provider-registry'), keys, envelope)).rejects.toEqual(
      new RequestOpenError('unopenable'),
    );
    await expect(openRequest(LIST, keys, { ...envelope, k: 'k9' })).rejects.toEqual(
      new RequestOpenError('unknown-key'),
    );
    const stranger = new Map(
      parseServicePrivateKeys(generateServiceKey('k2').privateKey).map((k) => [k.kid, k]),
    );
    await expect(openRequest(LIST, stranger, envelope)).rejects.toEqual(new RequestOpenError('unopenable'));
  });

  it('opens a reply only with its own request’s key and id', async () => {
    const a = await sealRequest(LIST, publicKeys['token-broker'], head, body);
    const b = await sealRequest(LIST, publicKeys['token-broker'], { ...head, id: 'c1.1' }, body);
    const sealed = sealReply(a.replyKey, 'c1.0', { ok: true, data: { accessToken: 'secret' } });
    expect(openReply(a.replyKey, 'c1.0', sealed)).toEqual({ ok: true, data: { accessToken: 'secret' } });
    expect(() => openReply(b.replyKey, 'c1.0', sealed)).toThrow();
    expect(() => openReply(a.replyKey, 'c1.1', sealed)).toThrow();
  });

  it('reuses a caller’s session until its age or request count runs out, and never shares one between callers', async () => {
    const sealer = new RequestSealer(60_000, 3);
    const encs: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { envelope } = await sealRequest(
        LIST,
        publicKeys['token-broker'],
        { ...head, id: `c1.${i}` },
        body,
        sealer,
      );
      encs.push(envelope.e);
      expect((await openRequest(LIST, keys, envelope)).body).toEqual(body);
    }
    expect(new Set(encs.slice(0, 3)).size).toBe(1);
    expect(new Set(encs).size).toBe(3); // 3 + 3 + 1
    const other = await sealRequest(LIST, publicKeys['token-broker'], head, body, new RequestSealer());
    expect(encs).not.toContain(other.envelope.e);
    const aged = new RequestSealer(-1, 100);
    const first = await sealRequest(LIST, publicKeys['token-broker'], head, body, aged);
    const second = await sealRequest(LIST, publicKeys['token-broker'], head, body, aged);
    expect(second.envelope.e).not.toBe(first.envelope.e);
  });

  it('does not open a request moved to another session', async () => {
    const a = await sealRequest(LIST, publicKeys['token-broker'], head, body, new RequestSealer());
    const b = await sealRequest(LIST, publicKeys['token-broker'], head, body, new RequestSealer());
    await expect(
      openRequest(LIST, keys, { ...a.envelope, e: b.envelope.e }, new SessionKeys()),
    ).rejects.toEqual(new RequestOpenError('unopenable'));
    const sessions = new SessionKeys();
    await openRequest(LIST, keys, a.envelope, sessions);
    await openRequest(LIST, keys, b.envelope, sessions);
    expect(sessions.size).toBe(2);
    // A request that does not open does not get its session remembered.
    await expect(
      openRequest(LIST, keys, { ...a.envelope, e: Buffer.alloc(32, 9).toString('base64url') }, sessions),
    ).rejects.toBeInstanceOf(RequestOpenError);
    expect(sessions.size).toBe(2);
  });

  it('refuses malformed key settings without echoing them', () => {
    expect(() => parseServicePrivateKeys('nokid')).toThrow(/kid:key/);
    expect(() => parseServicePrivateKeys('k1:AAAA')).toThrow(/32 bytes/);
    expect(() => parseServicePublicKeys('token-broker:k1:abc')).toThrow(/service=kid:key/);
    expect(() => parseServicePrivateKeys(`${current.privateKey},${current.privateKey}`)).toThrow(/twice/);
  });
});

describe('signed events', () => {
  const signing = generateEventSigningKey('e1');
  const key = parseEventSigningKey(signing.privateKey);
  const accepted = parseEventPublicKeys(signing.publicKey);
  const event = {
    type: 'authorization.revoked' as const,
    orgId: 'o',
    authorizationId: 'a',
    providerId: 'p',
    userId: 'u',
    status: 'active' as const,
    at: new Date().toISOString(),
  };

  it('accepts what the broker signed and refuses forgeries, other keys, stale and altered events', () => {
    expect(key.publicEntry).toBe(signing.publicKey);
    const signed = signEvent(key, event);
    expect(verifyEvent(accepted, signed)).toEqual({ ok: true, event });
    expect(verifyEvent(accepted, JSON.stringify(event))).toEqual({ ok: false, reason: 'malformed' });
    const other = parseEventSigningKey(generateEventSigningKey('e1').privateKey);
    expect(verifyEvent(accepted, signEvent(other, event))).toEqual({ ok: false, reason: 'bad-signature' });
    const message = JSON.parse(signed) as { e: string };
    expect(verifyEvent(accepted, JSON.stringify({ ...message, e: message.e.replace('"a"', '"b"') }))).toEqual(
      { ok: false, reason: 'bad-signature' },
    );
    expect(
      verifyEvent(accepted, signEvent(parseEventSigningKey(generateEventSigningKey('e9').privateKey), event)),
    ).toEqual({ ok: false, reason: 'unknown-key' });
    expect(
      verifyEvent(accepted, signEvent(key, { ...event, at: new Date(Date.now() - 3_600_000).toISOString() })),
    ).toEqual({ ok: false, reason: 'stale' });
  });
});
