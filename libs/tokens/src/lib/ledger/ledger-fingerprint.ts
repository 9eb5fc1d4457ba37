import { createHash } from 'node:crypto';

/**
 * What makes two serves "the same" in the ledger (they merge into one row with a count): the
 * token's keyed fingerprint and every fact of the serve but its time. Hashed so the unique index
 * stays small whatever the actor or restriction hold.
 */
export function ledgerDedupeKey(fields: DedupeFields): string {
  return createHash('sha256').update(dedupeFacts(fields)).digest('base64url');
}

interface DedupeFields {
  fingerprint: string;
  consumer: string;
  actor: string | null;
  subject: string;
  authorizationId: string;
  path: string;
  restriction: string | null;
  attenuated: boolean;
}

/** The facts ledgerDedupeKey hashes, as one string (equal for serves that merge, and only for them). */
export function dedupeFacts(fields: DedupeFields): string {
  return JSON.stringify([
    fields.fingerprint,
    fields.consumer,
    fields.actor,
    fields.subject,
    fields.authorizationId,
    fields.path,
    fields.restriction,
    fields.attenuated,
  ]);
}

/** JSON with object keys sorted (equal restrictions give equal strings). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
