import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { RevocationEntry } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { RevocationsService } from '../revocation/revocations.service';
import { GrantPolicy, GrantSubject } from './grant-subject';

export const CODE_PURPOSE = 'authorization_code';
export const REFRESH_PURPOSE = 'refresh_token';

/** The client and the user as they are now (locked against a concurrent disable), or null if either lost access. */
export async function currentRights(em: EntityManager, orgId: string, clientId: string, sub: string) {
  const [client] = (await em.query(
    'SELECT scopes, allow_user_delegation FROM identity.oauth_clients WHERE id = $1 AND org_id = $2 AND NOT disabled FOR SHARE',
    [clientId, orgId],
  )) as { scopes: string[]; allow_user_delegation: boolean }[];
  const [user] = (await em.query(
    'SELECT scopes FROM identity.users WHERE org_id = $1 AND sub = $2 AND NOT disabled FOR SHARE',
    [orgId, sub],
  )) as { scopes: string[] }[];
  if (!client || !user) return null;
  return {
    client: { scopes: client.scopes, allowUserDelegation: client.allow_user_delegation },
    user: { scopes: user.scopes },
  };
}

/** Revokes the sessions (refresh-token families) given, each once; the entries to announce once committed. */
export async function revokeSessions(
  revocations: RevocationsService,
  em: EntityManager,
  families: { org_id: string; family_id: string }[],
): Promise<RevocationEntry[]> {
  const entries: RevocationEntry[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (seen.has(f.family_id)) continue;
    seen.add(f.family_id);
    entries.push(await revocations.revokeSession(em, f.org_id, f.family_id));
  }
  return entries;
}

/** Stores a new refresh token of the family (as a keyed hash) and returns it: the only time it exists in clear. */
export async function insertRefresh(
  query: (sql: string, params: unknown[]) => Promise<unknown>,
  hasher: KeyedHasher,
  policy: GrantPolicy,
  grant: GrantSubject,
  familyId: string,
  generation: number,
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await query(
    `INSERT INTO identity.refresh_tokens (token_hash, family_id, org_id, client_id, sub, scope, zoneinfo, generation, expires_at, resource)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      hasher.hash(REFRESH_PURPOSE, token),
      familyId,
      grant.orgId,
      grant.clientId,
      grant.sub,
      grant.scope,
      grant.zoneinfo ?? null,
      generation,
      new Date(Date.now() + policy.refreshTtlMs),
      grant.resource ?? null,
    ],
  );
  return token;
}

/** RFC 7636 S256: BASE64URL(SHA-256(verifier)) equals the challenge (constant-time). */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
