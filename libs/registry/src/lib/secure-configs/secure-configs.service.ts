import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DecryptionError, EncryptionContext, EnvelopeCipher } from '@broker/crypto';
import { SecureConfigEntity } from './secure-config.entity';

const TABLE = 'registry.secure_configs';
const COLUMN = 'client_secret';

/** Progress of one key-rotation batch. */
export interface RewrapProgress {
  /** Rows read that were not under the active key. */
  scanned: number;
  /** Rows re-wrapped under the active key. */
  rewrapped: number;
  /** Rows changed by someone else meanwhile (they are picked up by the next pass if still due). */
  conflicts: number;
  /** Rows that do not decrypt (tampered, unknown key): left as they are, reported, never "repaired". */
  failed: number;
  /** Id of the last row read: pass it as `afterId` to read the next batch. */
  lastId?: string;
}

/**
 * Providers' client secrets, envelope-encrypted and bound to their row. Reading one that does not
 * decrypt (unknown key, tampered, copied from another row or org) fails; there is no fallback.
 */
export class SecureConfigsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
  ) {}

  /** Stores a new secret for the org and returns the record's id (its `secureConfigId`). */
  async create(em: EntityManager, orgId: string, secret: string): Promise<string> {
    const id = randomUUID();
    const value = this.cipher.encrypt(secret, context(orgId, id));
    await em
      .getRepository(SecureConfigEntity)
      .insert({ id, orgId, clientSecret: value, keyId: this.cipher.keyIdOf(value) });
    return id;
  }

  /** Replaces the secret (a new data key under the active key); bumps the version. */
  async replace(em: EntityManager, orgId: string, id: string, secret: string): Promise<void> {
    const value = this.cipher.encrypt(secret, context(orgId, id));
    await em.query(
      `UPDATE ${TABLE} SET client_secret = $3, key_id = $4, version = version + 1, updated_at = now() WHERE id = $1 AND org_id = $2`,
      [id, orgId, value, this.cipher.keyIdOf(value)],
    );
  }

  /** The secret in clear, for a call to the provider. Throws DecryptionError rather than guess. */
  async reveal(orgId: string, id: string): Promise<string | null> {
    const row = await this.dataSource.getRepository(SecureConfigEntity).findOneBy({ id, orgId });
    return row ? this.cipher.decryptString(row.clientSecret, context(orgId, id)) : null;
  }

  async remove(em: EntityManager, orgId: string, id: string): Promise<void> {
    await em.getRepository(SecureConfigEntity).delete({ id, orgId });
  }

  /** How many secrets each keyring key wraps (for key rotation: a key may go once it wraps nothing). */
  async valuesByKey(): Promise<Record<string, number>> {
    const rows = (await this.dataSource.query(
      `SELECT key_id, count(*)::int AS n FROM ${TABLE} GROUP BY key_id`,
    )) as { key_id: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }

  /** How many secrets are still wrapped by a key other than the active one. */
  async countDue(): Promise<number> {
    const rows = (await this.dataSource.query(`SELECT count(*)::int AS n FROM ${TABLE} WHERE key_id <> $1`, [
      this.cipher.activeKeyId,
    ])) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  /**
   * Re-wraps up to `limit` secrets under the active key. Each write is a compare-and-swap on the
   * row's version, so a secret replaced meanwhile is never overwritten with its old value.
   */
  async rewrapBatch(
    limit: number,
    afterId = '00000000-0000-0000-0000-000000000000',
  ): Promise<RewrapProgress> {
    const rows = (await this.dataSource.query(
      `SELECT id, org_id, client_secret, version FROM ${TABLE} WHERE key_id <> $1 AND id > $2 ORDER BY id LIMIT $3`,
      [this.cipher.activeKeyId, afterId, limit],
    )) as { id: string; org_id: string; client_secret: string; version: number }[];
    const progress: RewrapProgress = {
      scanned: rows.length,
      rewrapped: 0,
      conflicts: 0,
      failed: 0,
      lastId: rows.at(-1)?.id,
    };
    for (const row of rows) {
      let value: string;
      try {
        value = this.cipher.rewrap(row.client_secret, context(row.org_id, row.id));
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err;
        progress.failed++;
        continue;
      }
      const [, count] = (await this.dataSource.query(
        `UPDATE ${TABLE} SET client_secret = $3, key_id = $4, version = version + 1, updated_at = now() WHERE id = $1 AND version = $2`,
        [row.id, row.version, value, this.cipher.activeKeyId],
      )) as [unknown, number];
      if (count === 1) progress.rewrapped++;
      else progress.conflicts++;
    }
    return progress;
  }
}

function context(orgId: string, rowId: string): EncryptionContext {
  return { table: TABLE, column: COLUMN, orgId, rowId };
}
