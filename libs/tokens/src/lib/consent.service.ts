import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AuthorizedProvider, OAuthProvider, OAuthUserResponse } from '@broker/contracts';
import { EnvelopeCipher } from '@broker/crypto';
import { ProviderCallError, authorizationUrl, exchangeCode } from '@broker/provider-adapters';
import { AuthorizationEntity } from './authorizations/authorization.entity';
import { AuthorizationLinker } from './authorizations/authorization-linker';
import { toUserResponse } from './user-response';
import { ProviderAccess, TokensError } from './provider-access';

const PENDING = 'tokens.pending_authorizations';

export interface ConsentOptions {
  /** Where providers send the browser back by default (the gateway's browser callback). */
  defaultRedirectUri: string;
  /** Other redirect URIs a caller may ask for (exact match), e.g. a front end's own callback page. */
  allowedRedirectUris: string[];
  stateTtlMs: number;
  providerTimeoutMs: number;
}

/** What a completed callback produced. */
export interface CompletedConsent {
  authorizedProvider: AuthorizedProvider;
  userInfo: OAuthUserResponse;
  /** The client's own state from the authorize call, echoed back. */
  clientState: string | null;
}

/**
 * The user's consent at a provider: `authorize` starts it (a single-use 256-bit state, bound to
 * org + user + provider and stored hashed with the PKCE verifier encrypted), `complete` ends it
 * (state consumed first, so a replay or a mismatch stores nothing).
 */
export class ConsentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
    private readonly providers: ProviderAccess,
    private readonly linker: AuthorizationLinker,
    private readonly fetchImpl: typeof fetch,
    private readonly options: ConsentOptions,
  ) {}

  async authorize(orgId: string, userId: string, providerId: string, clientState?: string, redirectUri?: string): Promise<{ redirectUrl: string; state: string }> {
    const credentials = await this.providers(orgId, providerId, { fresh: true });
    if (!credentials) throw new TokensError('NOT_FOUND', 'OAuth provider not found.');
    if (credentials.provider.status !== 'active') throw new TokensError('CONFLICT', `The provider is ${credentials.provider.status}; only an active provider can be authorized.`);
    const redirect = redirectUri ?? this.options.defaultRedirectUri;
    if (redirect !== this.options.defaultRedirectUri && !this.options.allowedRedirectUris.includes(redirect)) {
      throw new TokensError('UNPROCESSABLE', 'redirect_uri is not in the allowed list');
    }
    const state = randomBytes(32).toString('base64url');
    const stateHash = hashState(state);
    const verifier = credentials.resolved.pkce ? randomBytes(32).toString('base64url') : null;
    await this.dataSource.query(
      `INSERT INTO ${PENDING} (state_hash, org_id, user_id, provider_id, code_verifier, client_state, redirect_uri, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        stateHash,
        orgId,
        userId,
        providerId,
        verifier ? this.cipher.encrypt(verifier, { table: PENDING, column: 'code_verifier', orgId, rowId: stateHash }) : null,
        clientState ?? null,
        redirect,
        new Date(Date.now() + this.options.stateTtlMs),
      ],
    );
    const scopes = credentials.provider.customScopes.length ? credentials.provider.customScopes : credentials.resolved.defaultScopes;
    const redirectUrl = authorizationUrl(credentials.resolved, {
      clientId: credentials.provider.clientId,
      redirectUri: redirect,
      scopes,
      state,
      codeChallenge: verifier ? createHash('sha256').update(verifier).digest('base64url') : undefined,
      // skipConsent off: the provider shows its consent screen every time (where it can be asked to).
      forceConsent: !credentials.provider.skipConsent,
    });
    return { redirectUrl, state };
  }

  /**
   * Completes a consent. `caller` is the authenticated user (REST callback); null for the browser
   * callback, where the single-use state itself is the proof. Anything amiss → BAD_REQUEST, nothing stored.
   */
  async complete(caller: { orgId: string; userId: string } | null, input: { code: string; providerId: string; state: string; iss?: string }): Promise<CompletedConsent> {
    const stateHash = hashState(input.state);
    const [rows] = (await this.dataSource.query(`DELETE FROM ${PENDING} WHERE state_hash = $1 RETURNING *`, [stateHash])) as [
      { org_id: string; user_id: string; provider_id: string; code_verifier: string | null; client_state: string | null; redirect_uri: string; expires_at: Date }[],
      number,
    ];
    const pending = rows[0];
    if (!pending || pending.expires_at.getTime() < Date.now()) throw new TokensError('BAD_REQUEST', 'The state is unknown, already used or expired: start the authorization again.');
    if (caller && (caller.orgId !== pending.org_id || caller.userId !== pending.user_id)) {
      throw new TokensError('BAD_REQUEST', 'This state belongs to another user.');
    }
    // The browser callback does not name the provider (the state does); the API callback must name the right one.
    if (input.providerId && input.providerId !== pending.provider_id) throw new TokensError('BAD_REQUEST', 'This state was issued for another provider.');
    const credentials = await this.providers(pending.org_id, pending.provider_id, { fresh: true });
    if (!credentials) throw new TokensError('NOT_FOUND', 'OAuth provider not found.');
    const issuer = credentials.resolved.endpoints.issuer;
    if (input.iss !== undefined && issuer && input.iss !== issuer) throw new TokensError('BAD_REQUEST', 'The iss parameter does not match the provider (RFC 9207).');
    const verifier = pending.code_verifier
      ? this.cipher.decryptString(pending.code_verifier, { table: PENDING, column: 'code_verifier', orgId: pending.org_id, rowId: stateHash })
      : undefined;
    const client = {
      provider: credentials.resolved,
      clientId: credentials.provider.clientId,
      clientSecret: credentials.clientSecret,
      fetch: this.fetchImpl,
      timeoutMs: this.options.providerTimeoutMs,
    };
    let tokens;
    try {
      tokens = await exchangeCode(client, { code: input.code, redirectUri: pending.redirect_uri, codeVerifier: verifier });
    } catch (err) {
      if (err instanceof ProviderCallError && err.kind === 'transient') throw new TokensError('UNAVAILABLE', 'The provider did not answer; start the authorization again.');
      throw new TokensError('BAD_REQUEST', `The provider did not accept the code (${err instanceof Error ? err.message : 'error'}).`);
    }
    const { authorization, userInfo } = await this.linker.link(pending.org_id, pending.user_id, pending.provider_id, credentials, tokens);
    return { authorizedProvider: toAuthorizedProvider(authorization, credentials.provider), userInfo: toUserResponse(userInfo), clientState: pending.client_state };
  }

  /**
   * The browser callback when the provider reports an error (e.g. the user refused): the state is
   * consumed and the client's own state returned, so the app learns which attempt failed.
   */
  async abandon(state: string): Promise<string | null> {
    const [rows] = (await this.dataSource.query(`DELETE FROM ${PENDING} WHERE state_hash = $1 RETURNING client_state`, [hashState(state)])) as [{ client_state: string | null }[], number];
    return rows[0]?.client_state ?? null;
  }

  /** Drops expired pending states (housekeeping). */
  async purgeExpired(): Promise<number> {
    const [, count] = (await this.dataSource.query(`DELETE FROM ${PENDING} WHERE expires_at < now()`)) as [unknown, number];
    return count;
  }
}

export function hashState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

/**
 * Seed 000 `models.AuthorizedProvider`. While its provider is not active the authorization reads
 * `invalidProviderState` (derived, never stored: it is back as it was once the provider is).
 */
export function toAuthorizedProvider(a: AuthorizationEntity, provider: OAuthProvider): AuthorizedProvider {
  return {
    id: a.id,
    orgId: a.orgId,
    userId: a.userId,
    oauthClientId: a.oauthClientId,
    credentialId: a.credentialId ?? '',
    status: provider.status === 'active' ? a.status : 'invalidProviderState',
    provider,
    refreshTokenExpiresAt: a.refreshTokenExpiresAt ? a.refreshTokenExpiresAt.toISOString() : null,
    createdAt: a.createdAt.toISOString(),
  };
}
