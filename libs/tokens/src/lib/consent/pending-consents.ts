import { createHash, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';

/** Consents started and not yet ended: one row per state, stored by its hash. */
export const PENDING = 'tokens.pending_authorizations';

/** One row of `tokens.pending_authorizations` (`code_verifier` envelope-encrypted). */
export interface PendingRow {
  org_id: string;
  user_id: string;
  provider_id: string;
  code_verifier: string | null;
  client_state: string | null;
  redirect_uri: string;
  expires_at: Date;
  browser_binding: string | null;
  setup_id: string | null;
  scopes: string[] | null;
}

/** The stored browser binding equals the one brought back (constant time); never true when either is missing. */
export function sameBinding(stored: string | null, given: string | undefined): boolean {
  if (!stored || typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(stored), Buffer.from(given));
}

/** The state as stored: its SHA-256 (a leaked table gives no usable state). */
export function hashState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

/**
 * The ends of a pending consent that call no provider: refused at the provider (state consumed),
 * which setup a state came from, and the housekeeping of expired states.
 */
export class PendingConsents {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Ends a consent the provider refused (state consumed): the client's state and the setup it came
   * from, both only for the browser that started it (`mismatch` for any other).
   */
  async end(
    state: string,
    browserBinding?: string,
  ): Promise<{
    mismatch: boolean;
    clientState: string | null;
    setup: { setupId: string; orgId: string } | null;
  }> {
    const [rows] = (await this.dataSource.query(
      `DELETE FROM ${PENDING} WHERE state_hash = $1 RETURNING client_state, browser_binding, setup_id, org_id`,
      [hashState(state)],
    )) as [
      {
        client_state: string | null;
        browser_binding: string | null;
        setup_id: string | null;
        org_id: string;
      }[],
      number,
    ];
    const row = rows[0];
    if (!row) return { mismatch: false, clientState: null, setup: null };
    if (!sameBinding(row.browser_binding, browserBinding))
      return { mismatch: true, clientState: null, setup: null };
    return {
      mismatch: false,
      clientState: row.client_state,
      setup: row.setup_id ? { setupId: row.setup_id, orgId: row.org_id } : null,
    };
  }

  /**
   * A completed consent whose provider call failed for a passing reason spends its state; the setup
   * it came from stays open for another try. This tells which setup a state belonged to before it
   * is spent (null for none).
   */
  async setupOf(state: string): Promise<{ setupId: string; orgId: string } | null> {
    const [row] = (await this.dataSource.query(
      `SELECT setup_id, org_id FROM ${PENDING} WHERE state_hash = $1`,
      [hashState(state)],
    )) as { setup_id: string | null; org_id: string }[];
    return row?.setup_id ? { setupId: row.setup_id, orgId: row.org_id } : null;
  }

  /** Drops expired pending states (housekeeping). */
  async purgeExpired(): Promise<number> {
    const [, count] = (await this.dataSource.query(`DELETE FROM ${PENDING} WHERE expires_at < now()`)) as [
      unknown,
      number,
    ];
    return count;
  }
}
