import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuthorizationStatus } from '@broker/contracts';
import type { EncryptionContext, EnvelopeCipher } from '@broker/crypto';
import type { ProviderTokenSet } from '@broker/provider-adapters';
import { aheadDueAt } from '../refresh/refresh-timing';

const CREDENTIALS = 'tokens.credentials';
const CANDIDATES = 'tokens.refresh_candidates';

/**
 * The one way a token set lands on a credential row (a refresh's write and a candidate's adoption):
 * a new generation, the lease released, the old refresh token kept when none came back, and the
 * next refresh planned ($7, none without a refresh token). $1 is the row's id.
 */
const STORE_TOKEN_SET = `UPDATE ${CREDENTIALS} SET access_token = $2, refresh_token = COALESCE($3, refresh_token), token_type = $4, expires_at = $5, key_id = $6,
        generation = generation + 1, version = version + 1, lease_until = NULL, updated_at = now(),
        refresh_due_at = CASE WHEN COALESCE($3, refresh_token) IS NULL THEN NULL ELSE $7::timestamptz END
  WHERE id = $1`;
/** A refresh's write: compare-and-swap on the lease's fence ($8) and the generation it read ($9). */
const CAS_WRITE = `${STORE_TOKEN_SET} AND fence = $8 AND generation = $9`;
/** A candidate's adoption: the row is locked (FOR UPDATE) and its generation checked by the caller. */
const ADOPT_WRITE = STORE_TOKEN_SET;

/** A token set encrypted for the row it is written to. */
interface SealedTokenSet {
  access: string;
  refresh: string | null;
  tokenType: string;
  expiresAt: Date | null;
}

/** An authorization joined with its credential row, as the token path reads it. */
export interface CredentialRow {
  org_id: string;
  status: AuthorizationStatus;
  provider_id: string;
  user_id: string;
  scopes: string[];
  oauth_client_id: string;
  created_at: Date;
  refresh_token_expires_at: Date | null;
  credential_id: string | null;
  access_token: string | null;
  refresh_token: string | null;
  token_type: string | null;
  expires_at: Date | null;
  generation: number | null;
  lease_until: Date | null;
  updated_at: Date | null;
}

/** A refresh lease taken on a credential row: the fence proves it is still ours when writing. */
export interface Lease {
  id: string;
  fence: string;
  generation: number;
  refresh_token: string | null;
  /** Set when the previous holder's lease lapsed unreleased: it stopped (crashed) mid-refresh. */
  abandoned_until: Date | null;
}

/** Tokens kept (encrypted) by a holder that lost its lease, waiting to be adopted or discarded. */
export interface Candidate {
  id: string;
  from_generation: number;
  access_token: string;
  refresh_token: string | null;
  token_type: string;
  expires_at: Date | null;
}

/** The encryption context of a credential column (bound to its row, so a value cannot be moved). */
export function credentialContext(orgId: string, rowId: string, column: string): EncryptionContext {
  return { table: CREDENTIALS, column, orgId, rowId };
}

function candidateContext(orgId: string, rowId: string, column: string): EncryptionContext {
  return { table: CANDIDATES, column, orgId, rowId };
}

/** The refresh-ahead time of a token set written now (null: it does not expire, nothing to plan). */
function dueAfterWrite(expiresAt: Date | null | undefined): Date | null {
  return expiresAt ? aheadDueAt(expiresAt, new Date()) : null;
}

/**
 * Every statement of the token path on the credential and candidate tables: the read, the refresh
 * lease with its fencing counter, the compare-and-swap write, the refresh counters and the
 * candidates. Values are encrypted here, bound to the row they are written to.
 */
export class CredentialRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
    private readonly leaseMs: number,
  ) {}

  /** The authorization and its credential (null for an unknown id or a malformed one). */
  async read(orgId: string, authorizationId: string): Promise<CredentialRow | null> {
    if (!/^[0-9a-f-]{36}$/i.test(authorizationId)) return null;
    const rows = (await this.dataSource.query(
      `SELECT a.org_id, a.status, a.provider_id, a.user_id, a.scopes, a.oauth_client_id, a.created_at, a.refresh_token_expires_at, c.id AS credential_id, c.access_token, c.refresh_token, c.token_type, c.expires_at, c.generation, c.lease_until, c.updated_at
         FROM tokens.authorizations a LEFT JOIN ${CREDENTIALS} c ON c.authorization_id = a.id
        WHERE a.id = $1 AND a.org_id = $2`,
      [authorizationId, orgId],
    )) as CredentialRow[];
    return rows[0] ?? null;
  }

  /** A credential row's access token in clear. */
  decryptAccessToken(orgId: string, credentialId: string, value: string): string {
    return this.cipher.decryptString(value, credentialContext(orgId, credentialId, 'access_token'));
  }

  /** The leased row's refresh token in clear. */
  decryptRefreshToken(orgId: string, lease: Lease, value: string): string {
    return this.cipher.decryptString(value, credentialContext(orgId, lease.id, 'refresh_token'));
  }

  /** Takes the refresh lease (fencing counter +1) unless a live one exists. */
  async takeLease(orgId: string, authorizationId: string): Promise<Lease | null> {
    const [rows] = (await this.dataSource.query(
      `WITH prev AS (SELECT id, lease_until FROM ${CREDENTIALS} WHERE authorization_id = $1 AND org_id = $2 FOR UPDATE)
       UPDATE ${CREDENTIALS} c SET fence = c.fence + 1, lease_until = now() + ($3::int * interval '1 millisecond')
         FROM prev WHERE c.id = prev.id AND (prev.lease_until IS NULL OR prev.lease_until < now())
        RETURNING c.id, c.fence, c.generation, c.refresh_token, prev.lease_until AS abandoned_until`,
      [authorizationId, orgId, this.leaseMs],
    )) as [Lease[], number];
    return rows[0] ?? null;
  }

  /** Extends the lease while its holder still owns it (same fence). */
  async renewLease(lease: Lease): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${CREDENTIALS} SET lease_until = now() + ($3::int * interval '1 millisecond') WHERE id = $1 AND fence = $2 AND lease_until IS NOT NULL`,
      [lease.id, lease.fence, this.leaseMs],
    );
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.dataSource.query(`UPDATE ${CREDENTIALS} SET lease_until = NULL WHERE id = $1 AND fence = $2`, [
      lease.id,
      lease.fence,
    ]);
  }

  /** Compare-and-swap on (fence, generation); keeps the old refresh token when none came back. */
  async write(orgId: string, lease: Lease, tokens: ProviderTokenSet): Promise<boolean> {
    const access = this.cipher.encrypt(
      tokens.accessToken,
      credentialContext(orgId, lease.id, 'access_token'),
    );
    const refresh = tokens.refreshToken
      ? this.cipher.encrypt(tokens.refreshToken, credentialContext(orgId, lease.id, 'refresh_token'))
      : null;
    // The next refresh is planned by the same write (refresh ahead; the worker's sweep turns it into
    // a keep-alive if nobody uses this token set), so a written token is never left unscheduled.
    const sealed = { access, refresh, tokenType: tokens.tokenType, expiresAt: tokens.expiresAt ?? null };
    const [, count] = (await this.dataSource.query(CAS_WRITE, [
      ...this.storeParams(lease.id, sealed),
      lease.fence,
      lease.generation,
    ])) as [unknown, number];
    return count === 1;
  }

  /** Counts a failed refresh on the authorization. */
  async countFailure(orgId: string, authorizationId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE tokens.authorizations SET refresh_failed = refresh_failed + 1, updated_at = now() WHERE id = $1 AND org_id = $2`,
      [authorizationId, orgId],
    );
  }

  /** Counts a successful refresh and records the refresh token's own expiry (null: none known). */
  async countSuccess(
    orgId: string,
    authorizationId: string,
    refreshTokenExpiresAt: Date | null,
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE tokens.authorizations SET refresh_succeeded = refresh_succeeded + 1, last_refreshed_at = now(), updated_at = now(), refresh_token_expires_at = $3
        WHERE id = $1 AND org_id = $2`,
      [authorizationId, orgId, refreshTokenExpiresAt],
    );
  }

  /** Keeps tokens whose write lost its lease as an encrypted candidate; returns its id. */
  async insertCandidate(
    orgId: string,
    authorizationId: string,
    lease: Lease,
    tokens: ProviderTokenSet,
  ): Promise<string> {
    const id = randomUUID();
    const access = this.cipher.encrypt(tokens.accessToken, candidateContext(orgId, id, 'access_token'));
    const refresh = tokens.refreshToken
      ? this.cipher.encrypt(tokens.refreshToken, candidateContext(orgId, id, 'refresh_token'))
      : null;
    await this.dataSource.query(
      `INSERT INTO ${CANDIDATES} (id, org_id, authorization_id, from_generation, access_token, refresh_token, token_type, expires_at, key_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        id,
        orgId,
        authorizationId,
        lease.generation,
        access,
        refresh,
        tokens.tokenType,
        tokens.expiresAt ?? null,
        this.cipher.keyIdOf(access),
      ],
    );
    return id;
  }

  /** Authorizations that have candidates left (at most 1 000 a call). */
  async authorizationsWithCandidates(): Promise<{ org_id: string; authorization_id: string }[]> {
    return (await this.dataSource.query(
      `SELECT DISTINCT org_id, authorization_id FROM ${CANDIDATES} LIMIT 1000`,
    )) as {
      org_id: string;
      authorization_id: string;
    }[];
  }

  /** An authorization's candidates, oldest first. */
  async candidatesOf(orgId: string, authorizationId: string): Promise<Candidate[]> {
    return (await this.dataSource.query(
      `SELECT id, from_generation, access_token, refresh_token, token_type, expires_at FROM ${CANDIDATES}
        WHERE authorization_id = $1 AND org_id = $2 ORDER BY created_at`,
      [authorizationId, orgId],
    )) as Candidate[];
  }

  /**
   * In one transaction: adopts the candidate when the credential is still at the generation it was
   * refreshed from (nobody wrote meanwhile), else discards it; either way the candidate is deleted
   * and the outcome audited. True when adopted.
   */
  async settleCandidate(orgId: string, authorizationId: string, c: Candidate): Promise<boolean> {
    return this.dataSource.transaction(async (em) => {
      const [cred] = (await em.query(
        `SELECT id, generation FROM ${CREDENTIALS} WHERE authorization_id = $1 AND org_id = $2 FOR UPDATE`,
        [authorizationId, orgId],
      )) as { id: string; generation: number }[];
      const adopt = !!cred && cred.generation === c.from_generation;
      if (cred && adopt) await this.adopt(em, orgId, cred.id, c);
      const detail = adopt
        ? `candidate ${c.id}`
        : `candidate ${c.id} from generation ${c.from_generation}; row at ${cred?.generation ?? 'none'}`;
      await em.query(
        `INSERT INTO tokens.audit_events (org_id, authorization_id, type, detail) VALUES ($1, $2, $3, $4)`,
        [orgId, authorizationId, adopt ? 'refresh.candidate.adopted' : 'refresh.candidate.discarded', detail],
      );
      await em.query(`DELETE FROM ${CANDIDATES} WHERE id = $1`, [c.id]);
      return adopt;
    });
  }

  /** Moves a candidate's tokens onto the credential row (re-encrypted for that row). */
  private async adopt(em: EntityManager, orgId: string, credentialId: string, c: Candidate): Promise<void> {
    const reseal = (value: string, column: string) =>
      this.cipher.encrypt(
        this.cipher.decrypt(value, candidateContext(orgId, c.id, column)),
        credentialContext(orgId, credentialId, column),
      );
    const access = reseal(c.access_token, 'access_token');
    const refresh = c.refresh_token ? reseal(c.refresh_token, 'refresh_token') : null;
    const sealed = { access, refresh, tokenType: c.token_type, expiresAt: c.expires_at };
    await em.query(ADOPT_WRITE, this.storeParams(credentialId, sealed));
  }

  /** The parameters $1..$7 of STORE_TOKEN_SET (the access token's key id read from its envelope). */
  private storeParams(credentialId: string, t: SealedTokenSet): unknown[] {
    return [
      credentialId,
      t.access,
      t.refresh,
      t.tokenType,
      t.expiresAt,
      this.cipher.keyIdOf(t.access),
      dueAfterWrite(t.expiresAt),
    ];
  }
}
