import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EnvelopeCipher } from '@broker/crypto';
import { adapterFor } from '@broker/provider-adapters';
import { AuthorizationLinker } from '../authorizations/authorization-linker';
import { ProviderAccess, ProviderCredentials } from '../ports';
import { TokensError } from '../tokens-error';
import { ConsentCompletion } from './consent-completion';
import { CompletedConsent, ConsentOptions, PendingConsent, SetupConsent } from './consent-model';
import { PENDING, PendingConsents, PendingRow, hashState } from './pending-consents';

export * from './consent-model';
export { hashState } from './pending-consents';
export { toAuthorizedProvider } from './authorized-provider-view';

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
    linker: AuthorizationLinker,
    fetchImpl: typeof fetch,
    private readonly options: ConsentOptions,
  ) {
    this.completion = new ConsentCompletion(
      dataSource,
      cipher,
      providers,
      linker,
      fetchImpl,
      options.providerTimeoutMs,
    );
    this.pending = new PendingConsents(dataSource);
  }

  private readonly completion: ConsentCompletion;
  private readonly pending: PendingConsents;

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
   * Completes a consent (`ConsentCompletion.complete`). `caller` is the authenticated user (REST
   * callback); null for the browser callback, bound to the browser by `browserBinding`.
   */
  complete(
    caller: { orgId: string; userId: string } | null,
    input: { code: string; providerId: string; state: string; iss?: string; browserBinding?: string },
  ): Promise<CompletedConsent> {
    return this.completion.complete(caller, input);
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
  end(...args: Parameters<PendingConsents['end']>): ReturnType<PendingConsents['end']> {
    return this.pending.end(...args);
  }

  /** Which setup a state belonged to, before a failed completion spends it (null for none). */
  setupOf(state: string): Promise<{ setupId: string; orgId: string } | null> {
    return this.pending.setupOf(state);
  }

  /** Drops expired pending states (housekeeping). */
  purgeExpired(): Promise<number> {
    return this.pending.purgeExpired();
  }
}
