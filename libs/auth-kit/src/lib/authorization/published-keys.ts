import type { JSONWebKeySet, JWK } from 'jose';
import type { QueryRunnerLike } from '../revocation/published-revocations';

/**
 * The public signing keys still verifying tokens in circulation, as the token-broker publishes
 * them in its own table (`identity.signing_keys`: public half in clear, private half encrypted and
 * never read here). Every verifier with the database reads them here, so no service asks another
 * for them at run time.
 */
export async function publishedJwks(db: QueryRunnerLike): Promise<JSONWebKeySet> {
  const rows = (await db.query(
    `SELECT public_jwk FROM identity.signing_keys WHERE retire_at > now() ORDER BY created_at DESC`,
  )) as { public_jwk: JWK }[];
  return { keys: rows.map((r) => r.public_jwk) };
}
