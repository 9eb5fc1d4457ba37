import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LEDGER_PATHS } from '@broker/contracts';

/**
 * A serve's ledger facts, as the broker decided them: what a ledger ticket vouches for. The token
 * itself is not here, only its keyed fingerprint.
 */
export interface TicketedServe {
  orgId: string;
  fingerprint: string;
  consumer: string;
  /** The actor as the ledger stores it (JSON), or null. */
  actor: string | null;
  subject: string;
  authorizationId: string;
  providerId: string;
  path: (typeof LEDGER_PATHS)[number];
  /** The restriction as the ledger stores it (canonical JSON), or null. */
  restriction: string | null;
  attenuated: boolean;
  /** The token's expiry (ms since the epoch), or null when the provider gave none. */
  expiresAt: number | null;
}

/** A ticket's contents: the serve, when it was issued and until when hits may be reported on it (ms). */
export interface LedgerTicketClaims extends TicketedServe {
  issuedAt: number;
  notAfter: number;
}

/** How long a ticket vouches for hits at most, whatever the token's own expiry (1 h). */
export const LEDGER_TICKET_MAX_LIFETIME_MS = 3_600_000;
/** A hit reported this long after its ticket's end is still accepted (the gateway's batch interval and a margin). */
export const LEDGER_TICKET_DELIVERY_GRACE_MS = 10_000;
/** Clock difference tolerated between the gateway and the broker for a hit's times. */
const CLOCK_SKEW_MS = 5_000;

const VERSION = 'lt1';

const claimsSchema = z.strictObject({
  o: z.string().min(1).max(256),
  f: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  c: z.string().min(1).max(512),
  a: z.string().max(4096).nullable(),
  s: z.string().min(1).max(512),
  z: z.uuid(),
  p: z.uuid(),
  h: z.enum(LEDGER_PATHS),
  r: z.string().max(8192).nullable(),
  t: z.boolean(),
  e: z.number().int().nullable(),
  i: z.number().int(),
  x: z.number().int(),
});

/** Why a reported hit was not recorded (counted by the broker; never echoed to a caller). */
export type TicketRefusal = 'malformed' | 'bad-mac' | 'expired' | 'bad-times';

/**
 * Ledger tickets: the broker's MAC (HMAC-SHA-256) over a serve's ledger facts, handed to the
 * gateway inside the sealed reply of a REST serve, so the gateway can later report cache hits of
 * that serve and the broker can record them without trusting the gateway's word for any fact.
 *
 * The key is derived (HKDF) from the ledger's fingerprint key, itself derived from SECRET_PEPPER,
 * which every broker replica already holds (it must: their fingerprints have to agree). A ticket
 * made by one replica is therefore checked by any other, and no new secret has to be distributed.
 * The gateway never holds the key; it can only hand back tickets it was given.
 */
export class LedgerTickets {
  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    if (key.length < 32) throw new Error('a ledger ticket key is at least 32 bytes');
  }

  issue(serve: TicketedServe): string {
    const issuedAt = this.now();
    const notAfter = Math.min(
      serve.expiresAt ?? Number.POSITIVE_INFINITY,
      issuedAt + LEDGER_TICKET_MAX_LIFETIME_MS,
    );
    const body = Buffer.from(
      JSON.stringify({
        o: serve.orgId,
        f: serve.fingerprint,
        c: serve.consumer,
        a: serve.actor,
        s: serve.subject,
        z: serve.authorizationId,
        p: serve.providerId,
        h: serve.path,
        r: serve.restriction,
        t: serve.attenuated,
        e: serve.expiresAt,
        i: issuedAt,
        x: notAfter,
      }),
    ).toString('base64url');
    return `${VERSION}.${body}.${this.mac(body)}`;
  }

  /**
   * The serve a ticket vouches for, if the ticket is the broker's own, unaltered and still
   * current, and the hit's times lie within its life; otherwise why not.
   */
  check(
    ticket: string,
    hit: { firstAt: number; lastAt: number },
  ): { ok: true; claims: LedgerTicketClaims } | { ok: false; refusal: TicketRefusal } {
    const parts = ticket.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, refusal: 'malformed' };
    const [, body, mac] = parts as [string, string, string];
    const expected = Buffer.from(this.mac(body), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, refusal: 'bad-mac' };
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, refusal: 'malformed' };
    }
    const parsed = claimsSchema.safeParse(raw);
    if (!parsed.success) return { ok: false, refusal: 'malformed' };
    const c = parsed.data;
    const now = this.now();
    if (now > c.x + LEDGER_TICKET_DELIVERY_GRACE_MS) return { ok: false, refusal: 'expired' };
    if (
      hit.firstAt > hit.lastAt ||
      hit.firstAt < c.i - CLOCK_SKEW_MS ||
      hit.lastAt > c.x + CLOCK_SKEW_MS ||
      hit.lastAt > now + CLOCK_SKEW_MS
    )
      return { ok: false, refusal: 'bad-times' };
    return {
      ok: true,
      claims: {
        orgId: c.o,
        fingerprint: c.f,
        consumer: c.c,
        actor: c.a,
        subject: c.s,
        authorizationId: c.z,
        providerId: c.p,
        path: c.h,
        restriction: c.r,
        attenuated: c.t,
        expiresAt: c.e,
        issuedAt: c.i,
        notAfter: c.x,
      },
    };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(`${VERSION}.${body}`).digest('base64url');
  }
}
