import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACTED, redactSecrets, redactUrl } from '../src';

describe('log redaction', () => {
  it('replaces the values of secret-named keys at any depth', () => {
    const out = redactSecrets({
      provider: {
        clientId: 'public-id',
        clientSecret: 's3cr3t',
        nested: [{ refresh_token: 'r-tok', note: 'ok' }],
      },
      access_token: 'a-tok',
      code: 'auth-code',
      code_verifier: 'verifier',
      headers: { authorization: 'Bearer x', cookie: 'token=y', accept: 'json' },
      count: 3,
    });
    expect(out).toEqual({
      provider: {
        clientId: 'public-id',
        clientSecret: REDACTED,
        nested: [{ refresh_token: REDACTED, note: 'ok' }],
      },
      access_token: REDACTED,
      code: REDACTED,
      code_verifier: REDACTED,
      headers: { authorization: REDACTED, cookie: REDACTED, accept: 'json' },
      count: 3,
    });
  });

  it('strips secret query parameters from URLs and keeps the rest', () => {
    expect(redactUrl('/callback?code=abc&state=xyz&providerId=p1')).toBe(
      `/callback?code=${encodeURIComponent(REDACTED)}&state=${encodeURIComponent(REDACTED)}&providerId=p1`,
    );
    expect(redactUrl('/api/v2/externalOAuth/providers/?types=github')).toBe(
      '/api/v2/externalOAuth/providers/?types=github',
    );
  });

  it('keeps secrets out of real pino output when used as the log formatter', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = pino({ formatters: { log: (o: Record<string, unknown>) => redactSecrets(o) } }, sink);
    logger.info(
      { result: { refreshToken: 'canary-refresh', expiresIn: 60 }, clientSecret: 'canary-secret' },
      'refreshed',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('canary-');
    expect(JSON.parse(lines[0])).toMatchObject({
      result: { refreshToken: REDACTED, expiresIn: 60 },
      clientSecret: REDACTED,
      msg: 'refreshed',
    });
  });
});
