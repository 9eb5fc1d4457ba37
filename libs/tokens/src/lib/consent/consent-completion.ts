import { DataSource } from 'typeorm';
import { EnvelopeCipher } from '@broker/crypto';
import { ProviderCallError, adapterFor } from '@broker/provider-adapters';
import { AuthorizationLinker } from '../authorizations/authorization-linker';
import { ProviderAccess } from '../ports';
import { TokensError } from '../tokens-error';
import { toUserResponse } from '../user-response';
import { toAuthorizedProvider } from './authorized-provider-view';
import { CompletedConsent, ConsentBrowserMismatchError } from './consent-model';
import { PENDING, PendingRow, hashState, sameBinding } from './pending-consents';

/**
 * The end of a consent that came back with a code: the state is consumed first (a replay or a
 * mismatch stores nothing), checked against its caller or browser, provider and issuer (RFC 9207),
 * then the code is exchanged and the authorization linked.
 */
export class ConsentCompletion {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cipher: EnvelopeCipher,
    private readonly providers: ProviderAccess,
    private readonly linker: AuthorizationLinker,
    private readonly fetchImpl: typeof fetch,
    private readonly providerTimeoutMs: number,
  ) {}

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
      timeoutMs: this.providerTimeoutMs,
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
}
