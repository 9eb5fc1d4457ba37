import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AuthorizedProvider, OAuthProvider, OAuthUserResponse } from '@broker/contracts';
import { EnvelopeCipher } from '@broker/crypto';
import { ProviderCallError, adapterFor } from '@broker/provider-adapters';
import { AuthorizationEntity } from './authorizations/authorization.entity';
import { AuthorizationLinker } from './authorizations/authorization-linker';
import { toUserResponse } from './user-response';
import { ProviderAccess, ProviderCredentials } from './ports';
import { TokensError } from './tokens-error';

const PENDING = 'tokens.pending_authorizations';

export interface ConsentOptions {
  /** Where providers send the browser back by default (the gateway's browser callback). */
  defaultRedirectUri: string;
  /**
   * The broker's start page (`/connect/start`): a consent that returns to the browser callback
   * starts there, where the browser confirms it and is bound to it by a cookie.
   */
  startPageUrl: string;
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
  /** The hosted OAuth setup this consent came from, if any. */
  setupId: string | null;
}

/** A consent started by a hosted OAuth setup: which one, and the scopes it asks for. */
export interface SetupConsent {
  setupId: string;
  scopes: string[];
}

/** The browser callback came back without the cookie of the browser that started the consent (or with another one). */
export class ConsentBrowserMismatchError extends TokensError {
  constructor() {
    super(
      'BAD_REQUEST',
      'This connection was not started in this browser: nothing was linked. Start again from the application.',
    );
  }
}

/** A pending consent as its start page shows it. */
export interface PendingConsent {
  orgId: string;
  userId: string;
  provider: OAuthProvider;
  expiresAt: Date;
  /** Origin of the provider's authorization endpoint. */
  authorizationOrigin: string;
}

interface PendingRow {
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

/**
 * The user's consent at a provider: `authorize` starts it (a single-use 256-bit state, bound to
 * org + user + provider and stored hashed with the PKCE verifier encrypted), `complete` ends it
 * (state consumed first, so a replay or a mismatch stores nothing).
 *
 * Two ways back: a front end that receives the provider's redirect itself posts it with the user's
 * token (bound to that user); otherwise the browser comes back to the broker's callback, and the
 * consent must have started on the broker's start page in that same browser (`bindBrowser`: a
 * cookie whose hash is stored with the state), so a consent URL made by someone else cannot be
 * completed in a victim's browser (account-linking CSRF).
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

  /**
   * Starts a consent. `setup`: it comes from a hosted OAuth setup (always through the broker's start
   * page, in the browser that opened the setup's link), asking for the setup's scopes.
   */
  async authorize(
    orgId: string,
    userId: string,
    providerId: string,
    clientState?: string,
    redirectUri?: string,
    setup?: SetupConsent,
  ): Promise<{ redirectUrl: string; state: string }> {
    const credentials = await this.providers(orgId, providerId, { fresh: true });
    if (!credentials) throw new TokensError('NOT_FOUND', 'OAuth provider not found.');
    if (credentials.provider.status !== 'active')
      throw new TokensError(
        'CONFLICT',
        `The provider is ${credentials.provider.status}; only an active provider can be authorized.`,
      );
    const redirect = setup
      ? this.options.defaultRedirectUri
      : (redirectUri ?? this.options.defaultRedirectUri);
    if (
      redirect !== this.options.defaultRedirectUri &&
      !this.options.allowedRedirectUris.includes(redirect)
    ) {
      throw new TokensError('UNPROCESSABLE', 'redirect_uri is not in the allowed list');
    }
    const state = randomBytes(32).toString('base64url');
    const stateHash = hashState(state);
    const verifier = credentials.resolved.pkce ? randomBytes(32).toString('base64url') : null;
    await this.dataSource.query(
      `INSERT INTO ${PENDING} (state_hash, org_id, user_id, provider_id, code_verifier, client_state, redirect_uri, expires_at, setup_id, scopes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        stateHash,
        orgId,
        userId,
        providerId,
        verifier
          ? this.cipher.encrypt(verifier, {
              table: PENDING,
              column: 'code_verifier',
              orgId,
              rowId: stateHash,
            })
          : null,
        clientState ?? null,
        redirect,
        new Date(Date.now() + this.options.stateTtlMs),
        setup?.setupId ?? null,
        setup?.scopes.length ? setup.scopes : null,
      ],
    );
    if (redirect === this.options.defaultRedirectUri) {
      const start = new URL(this.options.startPageUrl);
      start.searchParams.set('flow', state);
      return { redirectUrl: start.toString(), state };
    }
    return { redirectUrl: this.providerUrl(credentials, redirect, state, verifier), state };
  }

  /** What a pending, browser-started consent connects (for its start page); null when it cannot start any more. */
  async describe(state: string): Promise<PendingConsent | null> {
    const [row] = (await this.dataSource.query(
      `SELECT org_id, user_id, provider_id, expires_at FROM ${PENDING}
        WHERE state_hash = $1 AND browser_binding IS NULL AND redirect_uri = $2 AND expires_at > now()`,
      [hashState(state), this.options.defaultRedirectUri],
    )) as PendingRow[];
    if (!row) return null;
    const credentials = await this.providers(row.org_id, row.provider_id, { fresh: true });
    if (!credentials) return null;
    return {
      orgId: row.org_id,
      userId: row.user_id,
      provider: credentials.provider,
      expiresAt: row.expires_at,
      authorizationOrigin: new URL(credentials.resolved.endpoints.authorizationUrl).origin,
    };
  }

  /**
   * Binds a browser-started consent to the browser that confirmed it (`bindingHash`: SHA-256 of its
   * cookie), once; returns the provider's authorization URL to send that browser to.
   */
  async bindBrowser(state: string, bindingHash: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(bindingHash))
      throw new TokensError('BAD_REQUEST', 'The browser binding is malformed.');
    const stateHash = hashState(state);
    const [rows] = (await this.dataSource.query(
      `UPDATE ${PENDING} SET browser_binding = $3
        WHERE state_hash = $1 AND browser_binding IS NULL AND redirect_uri = $2 AND expires_at > now()
        RETURNING org_id, provider_id, code_verifier, scopes`,
      [stateHash, this.options.defaultRedirectUri, bindingHash],
    )) as [PendingRow[], number];
    const row = rows[0];
    if (!row)
      throw new TokensError(
        'BAD_REQUEST',
        'This connection is unknown, expired or already started: start again from the application.',
      );
    const credentials = await this.providers(row.org_id, row.provider_id, { fresh: true });
    if (!credentials) throw new TokensError('NOT_FOUND', 'OAuth provider not found.');
    const verifier = row.code_verifier
      ? this.cipher.decryptString(row.code_verifier, {
          table: PENDING,
          column: 'code_verifier',
          orgId: row.org_id,
          rowId: stateHash,
        })
      : null;
    return this.providerUrl(credentials, this.options.defaultRedirectUri, state, verifier, row.scopes);
  }

  private providerUrl(
    credentials: ProviderCredentials,
    redirect: string,
    state: string,
    verifier: string | null,
    asked?: string[] | null,
  ): string {
    const scopes = asked?.length
      ? asked
      : credentials.provider.customScopes.length
        ? credentials.provider.customScopes
        : credentials.resolved.defaultScopes;
    return adapterFor(credentials.resolved).authorizationUrl(credentials.resolved, {
      clientId: credentials.provider.clientId,
      redirectUri: redirect,
      scopes,
      state,
      codeChallenge: verifier ? createHash('sha256').update(verifier).digest('base64url') : undefined,
      // skipConsent off: the provider shows its consent screen every time (where it can be asked to).
      forceConsent: !credentials.provider.skipConsent,
    });
  }

  /**
   * Completes a consent. `caller` is the authenticated user (REST callback); null for the browser
   * callback, where the state must come back with the cookie of the browser that confirmed it on
   * the start page (`browserBinding`: its SHA-256). Anything amiss → BAD_REQUEST, nothing stored
   * (and the state is spent).
   */
  async complete(
    caller: { orgId: string; userId: string } | null,
    input: { code: string; providerId: string; state: string; iss?: string; browserBinding?: string },
  ): Promise<CompletedConsent> {
    const stateHash = hashState(input.state);
    const [rows] = (await this.dataSource.query(`DELETE FROM ${PENDING} WHERE state_hash = $1 RETURNING *`, [
      stateHash,
    ])) as [PendingRow[], number];
    const pending = rows[0];
    if (!pending || pending.expires_at.getTime() < Date.now())
      throw new TokensError(
        'BAD_REQUEST',
        'The state is unknown, already used or expired: start the authorization again.',
      );
    if (caller && (caller.orgId !== pending.org_id || caller.userId !== pending.user_id)) {
      throw new TokensError('BAD_REQUEST', 'This state belongs to another user.');
    }
    if (!caller && !sameBinding(pending.browser_binding, input.browserBinding))
      throw new ConsentBrowserMismatchError();
    // The browser callback does not name the provider (the state does); the API callback must name the right one.
    if (input.providerId && input.providerId !== pending.provider_id)
      throw new TokensError('BAD_REQUEST', 'This state was issued for another provider.');
    const credentials = await this.providers(pending.org_id, pending.provider_id, { fresh: true });
    if (!credentials) throw new TokensError('NOT_FOUND', 'OAuth provider not found.');
    const issuer = credentials.resolved.endpoints.issuer;
    if (input.iss !== undefined && issuer && input.iss !== issuer)
      throw new TokensError('BAD_REQUEST', 'The iss parameter does not match the provider (RFC 9207).');
    // A provider that advertises RFC 9207 always sends `iss`: an answer without it may come from another server (mix-up attack).
    if (input.iss === undefined && credentials.resolved.authorizationResponseIssParameterSupported) {
      throw new TokensError(
        'BAD_REQUEST',
        'The provider advertises RFC 9207 but the response has no iss parameter.',
      );
    }
    const verifier = pending.code_verifier
      ? this.cipher.decryptString(pending.code_verifier, {
          table: PENDING,
          column: 'code_verifier',
          orgId: pending.org_id,
          rowId: stateHash,
        })
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
      tokens = await adapterFor(client.provider).exchangeCode(client, {
        code: input.code,
        redirectUri: pending.redirect_uri,
        codeVerifier: verifier,
      });
    } catch (err) {
      if (err instanceof ProviderCallError && err.kind === 'transient')
        throw new TokensError('UNAVAILABLE', 'The provider did not answer; start the authorization again.');
      throw new TokensError(
        'BAD_REQUEST',
        `The provider did not accept the code (${err instanceof Error ? err.message : 'error'}).`,
      );
    }
    const { authorization, userInfo } = await this.linker.link(
      pending.org_id,
      pending.user_id,
      pending.provider_id,
      credentials,
      tokens,
    );
    return {
      authorizedProvider: toAuthorizedProvider(authorization, credentials.provider),
      userInfo: toUserResponse(userInfo),
      clientState: pending.client_state,
      setupId: pending.setup_id,
    };
  }

  /**
   * The browser callback when the provider reports an error (e.g. the user refused): the state is
   * consumed, and the client's own state returned to the browser that started the consent (so the
   * app learns which attempt failed); any other browser gets 'mismatch'.
   */
  async abandon(state: string, browserBinding?: string): Promise<string | null | 'mismatch'> {
    const ended = await this.end(state, browserBinding);
    return ended.mismatch ? 'mismatch' : ended.clientState;
  }

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

/** The stored browser binding equals the one brought back (constant time); never true when either is missing. */
function sameBinding(stored: string | null, given: string | undefined): boolean {
  if (!stored || typeof given !== 'string' || !/^[0-9a-f]{64}$/.test(given)) return false;
  return timingSafeEqual(Buffer.from(stored), Buffer.from(given));
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
