import { randomBytes } from 'node:crypto';
import { CryptoKey, JSONWebKeySet, JWK, exportJWK, generateKeyPair, importJWK } from 'jose';
import { DataSource, MoreThan } from 'typeorm';
import { SIGNING_ALG, publishedJwks } from '@broker/auth-kit';
import { EnvelopeCipher } from '@broker/crypto';
import { SigningKeyEntity } from './entities/signing-key.entity';

const SYSTEM_ORG = '_system';
const DAY_MS = 86_400_000;

export interface SigningKeyPolicy {
  /** How long a key signs before a new one takes over. */
  signForMs: number;
  /** Longest access-token lifetime: a rotated key stays published this long (plus a margin). */
  maxTokenTtlMs: number;
}

export const DEFAULT_SIGNING_KEY_POLICY: SigningKeyPolicy = { signForMs: 30 * DAY_MS, maxTokenTtlMs: DAY_MS };

export interface ActiveSigningKey {
  kid: string;
  privateKey: CryptoKey;
  rotateAt: number;
}

/**
 * The asymmetric keys that sign the broker's access tokens. Kept in PostgreSQL with the private
 * half envelope-encrypted; rotated on a schedule; a rotated key stays in the JWKS until every
 * token it signed has expired.
 */
export class SigningKeysService {
  private active?: ActiveSigningKey;

  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
    private readonly policy: SigningKeyPolicy = DEFAULT_SIGNING_KEY_POLICY,
  ) {}

  /** The key to sign with now (cached in memory until it is due for rotation). */
  async signingKey(): Promise<ActiveSigningKey> {
    if (this.active && this.active.rotateAt > Date.now()) return this.active;
    this.active = await this.loadOrCreateActive();
    return this.active;
  }

  /** The public keys that verify tokens still in circulation. */
  jwks(): Promise<JSONWebKeySet> {
    return publishedJwks(this.dataSource);
  }

  /**
   * Re-wraps every signing key not under the keyring's active key (run at start-up: there are few,
   * so key rotation needs no job here). Compare-and-swap on the old value; returns how many moved.
   */
  async rewrapAll(): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT kid, private_jwk_enc FROM identity.signing_keys`)) as {
      kid: string;
      private_jwk_enc: string;
    }[];
    let moved = 0;
    for (const row of rows) {
      if (!this.cipher.needsRewrap(row.private_jwk_enc)) continue;
      const value = this.cipher.rewrap(row.private_jwk_enc, this.context(row.kid));
      const [, count] = (await this.dataSource.query(
        `UPDATE identity.signing_keys SET private_jwk_enc = $3 WHERE kid = $1 AND private_jwk_enc = $2`,
        [row.kid, row.private_jwk_enc, value],
      )) as [unknown, number];
      moved += count;
    }
    return moved;
  }

  /** How many signing keys each keyring key wraps (for key rotation: a key may go once it wraps nothing). */
  async valuesByKey(): Promise<Record<string, number>> {
    const rows = await this.dataSource
      .getRepository(SigningKeyEntity)
      .find({ select: { kid: true, privateJwkEnc: true } });
    const counts: Record<string, number> = {};
    for (const row of rows) {
      const keyId = this.cipher.keyIdOf(row.privateJwkEnc);
      counts[keyId] = (counts[keyId] ?? 0) + 1;
    }
    return counts;
  }

  private async loadOrCreateActive(): Promise<ActiveSigningKey> {
    return this.dataSource.transaction(async (em) => {
      // Replicas starting together must not each create a key.
      await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['identity:signing-keys']);
      const repo = em.getRepository(SigningKeyEntity);
      let row = await repo.findOne({
        where: { rotateAt: MoreThan(new Date()) },
        order: { createdAt: 'DESC' },
      });
      if (!row) row = await repo.save(await this.newKey());
      const jwk = JSON.parse(this.cipher.decryptString(row.privateJwkEnc, this.context(row.kid))) as JWK;
      return {
        kid: row.kid,
        privateKey: (await importJWK(jwk, SIGNING_ALG)) as CryptoKey,
        rotateAt: row.rotateAt.getTime(),
      };
    });
  }

  private async newKey(): Promise<SigningKeyEntity> {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const kid = randomBytes(12).toString('base64url');
    const now = Date.now();
    const entity = new SigningKeyEntity();
    entity.kid = kid;
    entity.alg = SIGNING_ALG;
    entity.publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
    entity.privateJwkEnc = this.cipher.encrypt(
      JSON.stringify(await exportJWK(privateKey)),
      this.context(kid),
    );
    entity.rotateAt = new Date(now + this.policy.signForMs);
    entity.retireAt = new Date(now + this.policy.signForMs + this.policy.maxTokenTtlMs + DAY_MS);
    return entity;
  }

  private context(kid: string) {
    return { table: 'identity.signing_keys', column: 'private_jwk', orgId: SYSTEM_ORG, rowId: kid };
  }
}
