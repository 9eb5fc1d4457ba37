import type { Request, Response } from 'express';
import Fastify from 'fastify';
import {
  freshNonce,
  helmetMiddleware,
  installSecurityHeaders,
  recordHelmet,
  securityHeaders,
} from '../src/http/security-headers';

/** A response that records header operations in order. */
function recorder() {
  const ops: unknown[] = [];
  const res = {
    locals: {} as Record<string, unknown>,
    setHeader: (name: string, value: unknown) => void ops.push({ set: name, value }),
    removeHeader: (name: string) => void ops.push({ remove: name }),
    getHeader: () => undefined,
  };
  return { ops, res };
}

describe('security headers replayed from helmet', () => {
  for (const publicUrl of ['http://127.0.0.1:3000', 'https://broker.example.test']) {
    it(`set exactly what helmet itself sets, with a fresh nonce per answer (${publicUrl.split(':')[0]})`, () => {
      const [handler] = securityHeaders(publicUrl);
      const nonces = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const { ops, res } = recorder();
        let nexts = 0;
        handler(
          { headers: {}, method: 'GET', url: '/' } as Request,
          res as unknown as Response,
          () => void nexts++,
        );
        expect(nexts).toBe(1);
        const nonce = String(res.locals['cspNonce']);
        expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
        nonces.add(nonce);
        // helmet run for real on the same nonce: the same operations, in the same order.
        const expected = [
          { set: 'Cache-Control', value: 'no-store' },
          ...recordHelmet(helmetMiddleware(publicUrl), nonce),
        ];
        expect(ops).toEqual(expected);
        const csp = (
          ops.find((o) => (o as { set?: string }).set === 'Content-Security-Policy') as { value: string }
        ).value;
        expect(csp).toContain(`style-src 'nonce-${nonce}'`);
        expect(csp).toContain("default-src 'none'");
        expect(ops).toContainEqual({ remove: 'X-Powered-By' });
        expect(ops.some((o) => (o as { set?: string }).set === 'Strict-Transport-Security')).toBe(
          publicUrl.startsWith('https:'),
        );
      }
      expect(nonces.size).toBe(3);
    });
  }
});

describe('security headers on a Fastify reply', () => {
  for (const publicUrl of ['http://127.0.0.1:3000', 'https://broker.example.test']) {
    it(`are helmet's own headers for the answer's nonce (${publicUrl.split(':')[0]})`, async () => {
      const fastify = Fastify();
      installSecurityHeaders(fastify, publicUrl);
      fastify.get('/', async (_request, reply) => ({ nonce: reply.cspNonce }));
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const res = await fastify.inject({ method: 'GET', url: '/' });
        const nonce = (res.json() as { nonce: string }).nonce;
        expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
        seen.add(nonce);
        const expected: Record<string, unknown> = { 'cache-control': 'no-store' };
        for (const op of recordHelmet(helmetMiddleware(publicUrl), nonce))
          if ('set' in op) expected[op.set.toLowerCase()] = op.value;
        for (const [name, value] of Object.entries(expected)) expect(res.headers[name]).toBe(value);
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
      expect(seen.size).toBe(3);
      await fastify.close();
    });
  }

  it('draws every nonce from unused random bytes, across refills of the pool', () => {
    const nonces = Array.from({ length: 1000 }, () => freshNonce());
    for (const n of nonces) expect(Buffer.from(n, 'base64')).toHaveLength(16);
    expect(new Set(nonces).size).toBe(nonces.length);
  });
});
