import { z } from 'zod';
import { plainText } from './plain-text';
import { newTokenGrantSchema, type TokenRestriction } from './token-policies';
import { tokenExchangeRequestSchema } from './token-exchange';
import { revocationJobIdSchema, startRevocationJobSchema } from './revocation-jobs';

/** How a provider token left the broker. */
export const LEDGER_PATHS = ['rest', 'bus', 'exchange'] as const;
export type LedgerPath = (typeof LEDGER_PATHS)[number];

/** Who acted for the consumer (RFC 8693 `act`, outermost first): a delegating client, the client that exchanged. */
export interface LedgerActor {
  sub: string;
  client_id: string;
  act?: LedgerActor;
}

/** One row of the provenance ledger, as an org admin reads it (never the token: its keyed fingerprint). */
export interface LedgerEntry {
  tokenFingerprint: string;
  consumer: string;
  actor: LedgerActor | null;
  subject: string;
  authorizationId: string;
  providerId: string;
  path: LedgerPath;
  restriction: TokenRestriction | null;
  attenuated: boolean;
  /** When the served token expires (ISO), where known. */
  tokenExpiresAt: string | null;
  firstServedAt: string;
  lastServedAt: string;
  serveCount: number;
}

/** "Who received tokens of this user (or from this consumer, authorization, provider) since …". */
export const ledgerQuerySchema = z.strictObject({
  subject: plainText(255, 1).optional(),
  consumer: plainText(255, 1).optional(),
  authorizationId: z.uuid().optional(),
  providerId: z.uuid().optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  /** The `next` of the previous page. */
  cursor: z
    .string()
    .regex(/^\d{1,19}$/)
    .optional(),
});
export type LedgerQuery = z.infer<typeof ledgerQuerySchema>;

/**
 * "Which consumer got this token": the token itself (hashed on arrival, never kept), or the
 * SHA-256 of it as base64 (GitHub's audit log `hashed_token`), or the ledger's own fingerprint.
 */
export const ledgerLookupSchema = z.union([
  z.strictObject({ token: plainText(16_384, 1) }),
  z.strictObject({
    sha256: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be a SHA-256 digest in base64 (44 characters)' }),
  }),
  z.strictObject({
    fingerprint: z
      .string()
      .regex(/^[A-Za-z0-9_-]{43}$/, { message: 'must be a ledger fingerprint (43 base64url characters)' }),
  }),
]);
export type LedgerLookup = z.infer<typeof ledgerLookupSchema>;

export interface LedgerPage {
  items: LedgerEntry[];
  /** Cursor of the next page; null at the end. */
  next: string | null;
}

/** At most this many hits in one `tokens.ledger.hits` message (the gateway sends more as further messages). */
export const LEDGER_HITS_MAX_BATCH = 500;
/** At most this many repeats of one serve in one reported hit. */
export const LEDGER_HIT_MAX_COUNT = 1_000_000;

/**
 * `tokens.ledger.hits` (gateway → token-broker, fire-and-forget): serves the gateway answered from
 * its cache, each as the opaque ledger ticket of the broker's serve it repeated, how many times,
 * and when (ms since the epoch). Ids and counts only, never a token: every recorded fact comes
 * from the ticket, which only the broker can make.
 */
export const ledgerHitsSchema = z.strictObject({
  hits: z
    .array(
      z.strictObject({
        ticket: z.string().min(1).max(8192),
        count: z.number().int().min(1).max(LEDGER_HIT_MAX_COUNT),
        firstAt: z.number().int().min(0),
        lastAt: z.number().int().min(0),
      }),
    )
    .min(1)
    .max(LEDGER_HITS_MAX_BATCH),
});
export type LedgerHits = z.infer<typeof ledgerHitsSchema>;
export type LedgerHit = LedgerHits['hits'][number];

/** Bus payload schemas of the consumer-policy and ledger patterns (merged into the bus's payload checks). */
export const LEAST_PRIVILEGE_BUS_SCHEMAS = {
  'identity.token-grants.list': z.strictObject({ clientId: plainText(255, 1).optional() }),
  'identity.token-grants.create': z.strictObject({
    clientId: plainText(255, 1),
    grant: newTokenGrantSchema,
  }),
  'identity.token-grants.delete': z.strictObject({ id: plainText(64, 1) }),
  'tokens.ledger.search': ledgerQuerySchema,
  'tokens.ledger.lookup': ledgerLookupSchema,
  'tokens.ledger.hits': ledgerHitsSchema,
  'tokens.exchange': tokenExchangeRequestSchema,
  'tokens.revocation-jobs.start': startRevocationJobSchema,
  'tokens.revocation-jobs.get': revocationJobIdSchema,
} as const;
