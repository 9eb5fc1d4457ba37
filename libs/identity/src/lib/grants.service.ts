import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { KeyedHasher } from '@broker/crypto';
import { OAuthError } from './oauth-error';

const CODE_PURPOSE = 'authorization_code';
const REFRESH_PURPOSE = 'refresh_token';

/** What an authorization code or refresh token grants: whose tokens, for which client, with what scope. */
export interface GrantSubject {
  orgId: string;
  clientId: string;
  sub: string;
  scope: string[];
  zoneinfo?: string | null;
  /** OIDC nonce of the authorization request (codes only; echoed in the ID token). */
  nonce?: string | null;
}

export interface NewCode extends GrantSubject {
  redirectUri: string;
  /** PKCE S256 challenge: BASE64URL(SHA-256(verifier)). */
  codeChallenge: string;
}

export interface GrantPolicy {
  codeTtlMs: number;
  refreshTtlMs: number;
}

export const DEFAULT_GRANT_POLICY: GrantPolicy = { codeTtlMs: 60_000, refreshTtlMs: 30 * 86_400_000 };

interface CodeRow {
  org_id: string;
  client_id: string;
  sub: string;
  redirect_uri: string;
  code_challenge: string;
  scope: string[];
  zoneinfo: string | null;
  nonce: string | null;
  family_id: string | null;
  expires_at: Date;
}

interface RefreshRow {
  family_id: string;
  org_id: string;
  client_id: string;
  sub: string;
  scope: string[];
  zoneinfo: string | null;
  generation: number;
}

/**
 * Single-use authorization codes (PKCE S256 only) and rotating refresh tokens. Both are stored
 * only as keyed hashes. Each use is an atomic compare-and-set, so of two concurrent uses at most
 * one succeeds; presenting a spent refresh token (or code) revokes the whole token family.
 */
export class GrantsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: KeyedHasher,
    private readonly policy: GrantPolicy = DEFAULT_GRANT_POLICY,
  ) {}

  /** Stores a new code and returns it (the only time it exists in clear). */
  async issueCode(input: NewCode): Promise<string> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(input.codeChallenge)) throw new OAuthError('invalid_request', 'code_challenge must be an S256 challenge');
    const code = randomBytes(32).toString('base64url');
    await this.dataSource.query(
      `INSERT INTO identity.authorization_codes
        (code_hash, org_id, client_id, sub, redirect_uri, code_challenge, scope, zoneinfo, nonce, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        this.hasher.hash(CODE_PURPOSE, code),
        input.orgId,
        input.clientId,
        input.sub,
        input.redirectUri,
        input.codeChallenge,
        input.scope,
        input.zoneinfo ?? null,
        input.nonce ?? null,
        new Date(Date.now() + this.policy.codeTtlMs),
      ],
    );
    return code;
  }

  /**
   * Redeems a code for `clientId` with the PKCE verifier and the same redirect URI; returns the
   * grant and its first refresh token. Anything amiss is `invalid_grant`.
   */
  async redeemCode(code: string, clientId: string, redirectUri: string | undefined, verifier: string | undefined): Promise<{ grant: GrantSubject; refreshToken: string }> {
    const hash = this.hasher.hash(CODE_PURPOSE, code);
    // The transaction commits in every case (a failed attempt still spends the code, a replay still
    // revokes what the code produced); the error is thrown once it has committed.
    const outcome = await this.dataSource.transaction(async (em): Promise<{ grant: GrantSubject; refreshToken: string } | OAuthError> => {
      const rows = (await em.query(
        `UPDATE identity.authorization_codes SET consumed_at = now()
          WHERE code_hash = $1 AND consumed_at IS NULL
          RETURNING org_id, client_id, sub, redirect_uri, code_challenge, scope, zoneinfo, nonce, family_id, expires_at`,
        [hash],
      )) as [CodeRow[], number];
      const row = rows[0]?.[0];
      if (!row) {
        // A second use of a code: whatever was issued from it is revoked (RFC 6749 §4.1.2).
        await em.query(
          `UPDATE identity.refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id =
             (SELECT family_id FROM identity.authorization_codes WHERE code_hash = $1)`,
          [hash],
        );
        return new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used');
      }
      if (row.expires_at.getTime() < Date.now()) return new OAuthError('invalid_grant', 'the authorization code has expired');
      if (row.client_id !== clientId) return new OAuthError('invalid_grant', 'the authorization code was issued to another client');
      if (redirectUri === undefined || redirectUri !== row.redirect_uri) return new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
      if (!verifier || !pkceMatches(verifier, row.code_challenge)) return new OAuthError('invalid_grant', 'the PKCE code_verifier does not match');
      const grant: GrantSubject = { orgId: row.org_id, clientId: row.client_id, sub: row.sub, scope: row.scope, zoneinfo: row.zoneinfo, nonce: row.nonce };
      const familyId = randomUUID();
      await em.query('UPDATE identity.authorization_codes SET family_id = $2 WHERE code_hash = $1', [hash, familyId]);
      const refreshToken = await this.insertRefresh(em.query.bind(em), grant, familyId, 1);
      return { grant, refreshToken };
    });
    if (outcome instanceof OAuthError) throw outcome;
    return outcome;
  }

  /**
   * Rotates a refresh token: the presented one is spent and a new one of the same family is
   * returned. A spent, revoked or unknown token is `invalid_grant`; a spent one also revokes its family.
   */
  async rotateRefresh(token: string, clientId: string): Promise<{ grant: GrantSubject; refreshToken: string }> {
    const hash = this.hasher.hash(REFRESH_PURPOSE, token);
    const outcome = await this.dataSource.transaction(async (em): Promise<{ grant: GrantSubject; refreshToken: string } | OAuthError> => {
      const rows = (await em.query(
        `UPDATE identity.refresh_tokens SET consumed_at = now()
          WHERE token_hash = $1 AND client_id = $2 AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING family_id, org_id, client_id, sub, scope, zoneinfo, generation`,
        [hash, clientId],
      )) as [RefreshRow[], number];
      const row = rows[0]?.[0];
      if (!row) {
        const reuse = (await em.query(
          `UPDATE identity.refresh_tokens SET revoked_at = now()
            WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM identity.refresh_tokens WHERE token_hash = $1 AND consumed_at IS NOT NULL)
            RETURNING family_id`,
          [hash],
        )) as [unknown[], number];
        return new OAuthError(
          'invalid_grant',
          reuse[1] > 0 ? 'refresh token reused: the whole grant is revoked' : 'the refresh token is invalid, expired or revoked',
        );
      }
      const grant: GrantSubject = { orgId: row.org_id, clientId: row.client_id, sub: row.sub, scope: row.scope, zoneinfo: row.zoneinfo };
      const refreshToken = await this.insertRefresh(em.query.bind(em), grant, row.family_id, row.generation + 1);
      return { grant, refreshToken };
    });
    if (outcome instanceof OAuthError) throw outcome;
    return outcome;
  }

  /**
   * Revokes every live refresh-token family of an org, narrowed to one client and/or one subject,
   * and spends their unused authorization codes; returns how many families were revoked.
   */
  async revokeFamilies(scope: { orgId: string; clientId?: string; sub?: string }): Promise<number> {
    const where = ['org_id = $1'];
    const params: unknown[] = [scope.orgId];
    if (scope.clientId !== undefined) where.push(`client_id = $${params.push(scope.clientId)}`);
    if (scope.sub !== undefined) where.push(`sub = $${params.push(scope.sub)}`);
    return this.dataSource.transaction(async (em) => {
      await em.query(`UPDATE identity.authorization_codes SET consumed_at = now() WHERE consumed_at IS NULL AND ${where.join(' AND ')}`, params);
      const [rows] = (await em.query(
        `UPDATE identity.refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND consumed_at IS NULL AND expires_at > now() AND ${where.join(' AND ')}
          RETURNING family_id`,
        params,
      )) as [{ family_id: string }[], number];
      return new Set(rows.map((r) => r.family_id)).size;
    });
  }

  private async insertRefresh(
    query: (sql: string, params: unknown[]) => Promise<unknown>,
    grant: GrantSubject,
    familyId: string,
    generation: number,
  ): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await query(
      `INSERT INTO identity.refresh_tokens (token_hash, family_id, org_id, client_id, sub, scope, zoneinfo, generation, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        this.hasher.hash(REFRESH_PURPOSE, token),
        familyId,
        grant.orgId,
        grant.clientId,
        grant.sub,
        grant.scope,
        grant.zoneinfo ?? null,
        generation,
        new Date(Date.now() + this.policy.refreshTtlMs),
      ],
    );
    return token;
  }
}

/** RFC 7636 S256: BASE64URL(SHA-256(verifier)) equals the challenge (constant-time). */
export function pkceMatches(verifier: string, challenge: string): boolean {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
