import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { RevocationEntry } from '@broker/contracts';
import { KeyedHasher } from '@broker/crypto';
import { OAuthError } from './oauth-error';
import { RevocationsService } from './revocation/revocations.service';
import { personScope } from './sign-in-policy';
import {
  CODE_PURPOSE,
  REFRESH_PURPOSE,
  currentRights,
  insertRefresh,
  pkceMatches,
  revokeSessions,
} from './grants/grant-rows';
import {
  CodeRow,
  DEFAULT_GRANT_POLICY,
  GrantPolicy,
  GrantSubject,
  NewCode,
  RefreshRow,
  RenewedGrant,
} from './grants/grant-subject';

export { DEFAULT_GRANT_POLICY } from './grants/grant-subject';
export type { GrantPolicy, GrantSubject, NewCode, RenewedGrant } from './grants/grant-subject';
export { pkceMatches } from './grants/grant-rows';

/**
 * Single-use authorization codes (PKCE S256 only) and rotating refresh tokens. Both are stored
 * only as keyed hashes. Each use is an atomic compare-and-set, so of two concurrent uses at most
 * one succeeds; presenting a spent refresh token (or code) revokes the whole token family.
 */
export class GrantsService {
  private readonly revocations: RevocationsService;

  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: KeyedHasher,
    private readonly policy: GrantPolicy = DEFAULT_GRANT_POLICY,
    revocations?: RevocationsService,
  ) {
    this.revocations = revocations ?? new RevocationsService(dataSource);
  }

  /** Stores a new code and returns it (the only time it exists in clear). */
  async issueCode(input: NewCode): Promise<string> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(input.codeChallenge))
      throw new OAuthError('invalid_request', 'code_challenge must be an S256 challenge');
    const code = randomBytes(32).toString('base64url');
    await this.dataSource.query(
      `INSERT INTO identity.authorization_codes
        (code_hash, org_id, client_id, sub, redirect_uri, code_challenge, scope, zoneinfo, nonce, expires_at, resource)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
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
        input.resource ?? null,
      ],
    );
    return code;
  }

  /**
   * Redeems a code for `clientId` with the PKCE verifier and the same redirect URI; returns the
   * grant and its first refresh token. Anything amiss is `invalid_grant`.
   */
  async redeemCode(
    code: string,
    clientId: string,
    redirectUri: string | undefined,
    verifier: string | undefined,
  ): Promise<RenewedGrant> {
    const hash = this.hasher.hash(CODE_PURPOSE, code);
    const revoked: RevocationEntry[] = [];
    // The transaction commits in every case (a failed attempt still spends the code, a replay still
    // revokes what the code produced); the error is thrown once it has committed.
    const outcome = await this.dataSource.transaction(async (em): Promise<RenewedGrant | OAuthError> => {
      const rows = (await em.query(
        `UPDATE identity.authorization_codes SET consumed_at = now()
          WHERE code_hash = $1 AND consumed_at IS NULL
          RETURNING org_id, client_id, sub, redirect_uri, code_challenge, scope, zoneinfo, nonce, family_id, expires_at, resource`,
        [hash],
      )) as [CodeRow[], number];
      const row = rows[0]?.[0];
      if (!row) {
        // A second use of a code: whatever was issued from it is revoked (RFC 6749 §4.1.2).
        const [families] = (await em.query(
          `UPDATE identity.refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id =
             (SELECT family_id FROM identity.authorization_codes WHERE code_hash = $1)
           RETURNING org_id, family_id`,
          [hash],
        )) as [{ org_id: string; family_id: string }[], number];
        revoked.push(...(await revokeSessions(this.revocations, em, families)));
        return new OAuthError('invalid_grant', 'the authorization code is invalid, expired or already used');
      }
      if (row.expires_at.getTime() < Date.now())
        return new OAuthError('invalid_grant', 'the authorization code has expired');
      if (row.client_id !== clientId)
        return new OAuthError('invalid_grant', 'the authorization code was issued to another client');
      if (redirectUri === undefined || redirectUri !== row.redirect_uri)
        return new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
      if (!verifier || !pkceMatches(verifier, row.code_challenge))
        return new OAuthError('invalid_grant', 'the PKCE code_verifier does not match');
      const rights = await currentRights(em, row.org_id, row.client_id, row.sub);
      if (!rights) return new OAuthError('invalid_grant', 'the user or the client no longer has access');
      const familyId = randomUUID();
      const grant: GrantSubject = {
        orgId: row.org_id,
        clientId: row.client_id,
        sub: row.sub,
        scope: row.scope,
        zoneinfo: row.zoneinfo,
        nonce: row.nonce,
        familyId,
        resource: row.resource,
      };
      await em.query('UPDATE identity.authorization_codes SET family_id = $2 WHERE code_hash = $1', [
        hash,
        familyId,
      ]);
      const refreshToken = await insertRefresh(
        em.query.bind(em),
        this.hasher,
        this.policy,
        grant,
        familyId,
        1,
      );
      return {
        grant: { ...grant, familyId, scope: personScope(row.scope, rights.client, rights.user) },
        refreshToken,
      };
    });
    this.revocations.committed(revoked);
    if (outcome instanceof OAuthError) throw outcome;
    return outcome;
  }

  /**
   * Rotates a refresh token: the presented one is spent and a new one of the same family is
   * returned. A spent, revoked or unknown token is `invalid_grant`; a spent one also revokes its
   * family. `requestedScope` may narrow the family's scope, never widen it: asking for more is
   * `invalid_scope` and spends nothing. The scope issued is also narrowed to what the client and the
   * user may still have; a deleted or disabled user (or client) ends the family.
   */
  async rotateRefresh(token: string, clientId: string, requestedScope?: string): Promise<RenewedGrant> {
    const hash = this.hasher.hash(REFRESH_PURPOSE, token);
    const revoked: RevocationEntry[] = [];
    const outcome = await this.dataSource.transaction(async (em): Promise<RenewedGrant | OAuthError> => {
      const rows = (await em.query(
        `SELECT token_hash, family_id, org_id, client_id, sub, scope, zoneinfo, generation, resource FROM identity.refresh_tokens
          WHERE token_hash = $1 AND client_id = $2 AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          FOR UPDATE`,
        [hash, clientId],
      )) as RefreshRow[];
      const row = rows[0];
      if (!row) {
        const [families] = (await em.query(
          `UPDATE identity.refresh_tokens SET revoked_at = now()
            WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM identity.refresh_tokens WHERE token_hash = $1 AND consumed_at IS NOT NULL)
            RETURNING org_id, family_id`,
          [hash],
        )) as [{ org_id: string; family_id: string }[], number];
        revoked.push(...(await revokeSessions(this.revocations, em, families)));
        return new OAuthError(
          'invalid_grant',
          families.length > 0
            ? 'refresh token reused: the whole grant is revoked'
            : 'the refresh token is invalid, expired or revoked',
        );
      }
      // Checked before anything is spent: a refused scope leaves the refresh token usable (RFC 6749 §6).
      const asked =
        requestedScope === undefined || requestedScope.trim() === ''
          ? row.scope
          : [...new Set(requestedScope.trim().split(/\s+/))];
      const extra = asked.filter((s) => !row.scope.includes(s));
      if (extra.length) return new OAuthError('invalid_scope', `scope not granted: ${extra.join(' ')}`);
      const rights = await currentRights(em, row.org_id, row.client_id, row.sub);
      if (!rights) {
        await em.query(
          'UPDATE identity.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
          [row.family_id],
        );
        revoked.push(await this.revocations.revokeSession(em, row.org_id, row.family_id));
        return new OAuthError('invalid_grant', 'the user or the client no longer has access');
      }
      await em.query('UPDATE identity.refresh_tokens SET consumed_at = now() WHERE token_hash = $1', [
        row.token_hash,
      ]);
      const grant: GrantSubject = {
        orgId: row.org_id,
        clientId: row.client_id,
        sub: row.sub,
        scope: row.scope,
        zoneinfo: row.zoneinfo,
        familyId: row.family_id,
        resource: row.resource,
      };
      const refreshToken = await insertRefresh(
        em.query.bind(em),
        this.hasher,
        this.policy,
        grant,
        row.family_id,
        row.generation + 1,
      );
      return {
        grant: { ...grant, familyId: row.family_id, scope: personScope(asked, rights.client, rights.user) },
        refreshToken,
      };
    });
    this.revocations.committed(revoked);
    if (outcome instanceof OAuthError) throw outcome;
    return outcome;
  }

  /**
   * Revokes a refresh token's whole family (RFC 7009) if the token is `clientId`'s; returns the
   * family's org and id, or null when the token is unknown or another client's.
   */
  async revokeFamily(
    token: string,
    clientId: string,
  ): Promise<{ orgId: string; familyId: string } | 'other-client' | null> {
    const hash = this.hasher.hash(REFRESH_PURPOSE, token);
    const revoked: RevocationEntry[] = [];
    const outcome = await this.dataSource.transaction(async (em) => {
      const [row] = (await em.query(
        'SELECT org_id, family_id, client_id FROM identity.refresh_tokens WHERE token_hash = $1',
        [hash],
      )) as {
        org_id: string;
        family_id: string;
        client_id: string;
      }[];
      if (!row) return null;
      if (row.client_id !== clientId) return 'other-client' as const;
      await em.query(
        'UPDATE identity.refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL',
        [row.family_id],
      );
      revoked.push(await this.revocations.revokeSession(em, row.org_id, row.family_id));
      return { orgId: row.org_id, familyId: row.family_id };
    });
    this.revocations.committed(revoked);
    return outcome;
  }

  /** RFC 7662 for a refresh token: its grant while it can still be used, if it is `clientId`'s. */
  async describeRefresh(
    token: string,
    clientId: string,
  ): Promise<(GrantSubject & { expiresAt: Date; issuedAt: Date }) | null> {
    const [row] = (await this.dataSource.query(
      `SELECT org_id, client_id, sub, scope, family_id, expires_at, created_at FROM identity.refresh_tokens
        WHERE token_hash = $1 AND client_id = $2 AND consumed_at IS NULL AND revoked_at IS NULL AND expires_at > now()`,
      [this.hasher.hash(REFRESH_PURPOSE, token), clientId],
    )) as {
      org_id: string;
      client_id: string;
      sub: string;
      scope: string[];
      family_id: string;
      expires_at: Date;
      created_at: Date;
    }[];
    if (!row) return null;
    return {
      orgId: row.org_id,
      clientId: row.client_id,
      sub: row.sub,
      scope: row.scope,
      familyId: row.family_id,
      expiresAt: row.expires_at,
      issuedAt: row.created_at,
    };
  }
}
