import { DataSource } from 'typeorm';
import { EgressDeniedError, EgressPolicy } from '@broker/provider-adapters';
import { LoadingCache } from '@broker/service-runtime';
import { OAuthClientEntity } from '../entities/oauth-client.entity';
import { OAuthError } from '../oauth-error';
import { checkClientIdUrl } from './client-id-url';
import { ClientMetadataSettings } from './client-metadata-settings';
import { ClientMetadata, checkMetadataDocument } from './metadata-document';

/** How the broker fetches client documents. */
export interface MetadataFetchOptions {
  /** The whole fetch, body included: a client's document is a small static file. */
  timeoutMs: number;
  /** Larger documents are refused (the draft suggests 5 KB). */
  maxBytes: number;
  /** Bounds on how long a fetched document is used: a client cannot make the broker fetch on every request, nor keep a stale copy for days. */
  minCacheSeconds: number;
  maxCacheSeconds: number;
  /** When the document's answer says nothing about caching. */
  defaultCacheSeconds: number;
}

export const DEFAULT_METADATA_FETCH: MetadataFetchOptions = {
  timeoutMs: 3_000,
  maxBytes: 5 * 1024,
  minCacheSeconds: 30,
  maxCacheSeconds: 24 * 3600,
  defaultCacheSeconds: 300,
};

/** A fetched document and how long it may be used. */
interface Fetched {
  metadata: ClientMetadata;
  cacheSeconds: number;
}

/**
 * Clients identified by URL (draft-ietf-oauth-client-id-metadata-document). The broker fetches the
 * document at the client's URL through the egress guard (no private or loopback address unless the
 * development setting allows loopback; no redirect; a 200 answer only; small size cap; short
 * deadline), checks it, and keeps it as the client's row (`kind = metadata_document`, a public
 * client: no secret, PKCE required) until the answer's cache lifetime, clamped, runs out; then it
 * fetches again, and a document that is gone or no longer acceptable refuses the client. The
 * client belongs to the org that accepts its URL (see ClientMetadataSettings.acceptingOrg) and gets
 * at most that org's scopes ∩ the document's `scope`. Every failure is an `invalid_client` OAuthError.
 */
export class MetadataDocumentClients {
  // Single flight only (nothing kept in memory: the row in PostgreSQL is the cached copy).
  private readonly inFlight = new LoadingCache<string, OAuthClientEntity>({ max: 10_000, ttlMs: 0 });

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: ClientMetadataSettings,
    private readonly fetchImpl: typeof fetch,
    private readonly policy: EgressPolicy,
    private readonly options: MetadataFetchOptions = DEFAULT_METADATA_FETCH,
  ) {}

  /** The client for `clientId` (a URL), fetched or from its cached copy. */
  resolve(clientId: string): Promise<OAuthClientEntity> {
    // One fetch per URL at a time: a burst of authorizations does not become a burst of fetches.
    return this.inFlight.get(clientId, () => this.load(clientId));
  }

  private async load(clientId: string): Promise<OAuthClientEntity> {
    const url = checkClientIdUrl(clientId, this.policy);
    const accepting = await this.settings.acceptingOrg(url);
    if (accepting === null)
      throw new OAuthError('invalid_client', 'no organisation here accepts this client identifier URL');
    if (accepting === 'ambiguous')
      throw new OAuthError(
        'invalid_client',
        'several organisations accept this client identifier URL: their administrators must narrow their lists',
      );
    const repo = this.dataSource.getRepository(OAuthClientEntity);
    const cached = await repo.findOneBy({ id: clientId });
    if (cached) {
      if (cached.kind !== 'metadata_document') return cached; // a registered client with this id: not ours to replace
      if (cached.orgId !== accepting.orgId)
        throw new OAuthError('invalid_client', 'this client belongs to another organisation');
      if (cached.disabled)
        throw new OAuthError(
          'invalid_client',
          "this client was disabled by the organisation's administrator",
        );
      if (cached.metadataExpiresAt && cached.metadataExpiresAt.getTime() > Date.now())
        return this.withinOrg(cached, accepting.maxScopes);
    }
    const fetched = await this.fetchDocument(url, clientId);
    const row: Partial<OAuthClientEntity> = {
      id: clientId,
      orgId: accepting.orgId,
      kind: 'metadata_document',
      name: fetched.metadata.clientName ?? url.host,
      logoUri: fetched.metadata.logoUri,
      // No secret: the empty string never matches a secret's HMAC, and authenticate() refuses this kind anyway.
      secretHash: '',
      grantTypes: fetched.metadata.grantTypes,
      scopes: fetched.metadata.scope ?? accepting.maxScopes,
      redirectUris: fetched.metadata.redirectUris,
      allowUserDelegation: false,
      metadataExpiresAt: new Date(Date.now() + fetched.cacheSeconds * 1000),
    };
    // Insert or refresh, never over a registered client or into another org (a concurrent insert loses, and is refused).
    const written = (await this.dataSource.query(
      `INSERT INTO identity.oauth_clients (id, org_id, kind, name, logo_uri, secret_hash, grant_types, scopes, redirect_uris, allow_user_delegation, metadata_expires_at)
       VALUES ($1, $2, 'metadata_document', $3, $4, '', $5, $6, $7, false, $8)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, logo_uri = EXCLUDED.logo_uri, grant_types = EXCLUDED.grant_types,
         scopes = EXCLUDED.scopes, redirect_uris = EXCLUDED.redirect_uris, metadata_expires_at = EXCLUDED.metadata_expires_at
       WHERE identity.oauth_clients.kind = 'metadata_document' AND identity.oauth_clients.org_id = EXCLUDED.org_id AND NOT identity.oauth_clients.disabled
       RETURNING id`,
      [
        row.id,
        row.orgId,
        row.name,
        row.logoUri,
        row.grantTypes,
        row.scopes,
        row.redirectUris,
        row.metadataExpiresAt,
      ],
    )) as unknown[];
    if (written.length === 0)
      throw new OAuthError('invalid_client', 'this client identifier is not available');
    return this.withinOrg(await repo.findOneByOrFail({ id: clientId }), accepting.maxScopes);
  }

  /** The client's scopes narrowed to what its org allows now (the org's admin may have narrowed them since the fetch). */
  private withinOrg(client: OAuthClientEntity, maxScopes: string[]): OAuthClientEntity {
    client.scopes = client.scopes.filter((s) => maxScopes.includes(s));
    return client;
  }

  private async fetchDocument(url: URL, clientId: string): Promise<Fetched> {
    const refuse = (why: string) =>
      new OAuthError('invalid_client', `the client's metadata document could not be fetched: ${why}`);
    let res: Response;
    try {
      res = await this.fetchImpl(url.href, {
        headers: { accept: 'application/json' },
        // The draft: the document is served at its URL, not somewhere it redirects to (a 3xx is refused below).
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      throw refuse(describe(err));
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw refuse(`the client's URL answered ${res.status}, not 200`);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw refuse(describe(err));
    }
    if (Buffer.byteLength(text) > this.options.maxBytes)
      throw refuse(`it is larger than ${this.options.maxBytes} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OAuthError(
        'invalid_client',
        "the client's metadata document is not acceptable: it is not JSON",
      );
    }
    return {
      metadata: checkMetadataDocument(body, clientId),
      cacheSeconds: this.cacheSeconds(res.headers.get('cache-control')),
    };
  }

  /** RFC 9111 `max-age` (or `no-store`/`no-cache`: as short as allowed), within the configured bounds. */
  private cacheSeconds(cacheControl: string | null): number {
    const { minCacheSeconds: min, maxCacheSeconds: max, defaultCacheSeconds } = this.options;
    if (!cacheControl) return defaultCacheSeconds;
    const directives = cacheControl
      .toLowerCase()
      .split(',')
      .map((d) => d.trim());
    if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return min;
    const maxAge = directives.map((d) => /^max-age=(\d+)$/.exec(d)?.[1]).find((v) => v !== undefined);
    if (maxAge === undefined) return defaultCacheSeconds;
    return Math.min(max, Math.max(min, Number(maxAge)));
  }
}

/** Why a fetch failed, without the URL's query (it is the client's own URL, but still kept short). */
function describe(err: unknown): string {
  const denied = findCause(err, (e): e is EgressDeniedError => e instanceof EgressDeniedError);
  if (denied) return denied.reason;
  const named = (e: unknown): e is { name: string } =>
    typeof (e as { name?: unknown } | null)?.name === 'string';
  if (
    findCause(
      err,
      (e): e is { name: string } => named(e) && (e.name === 'TimeoutError' || e.name === 'AbortError'),
    )
  )
    return 'it did not answer in time';
  return 'the client’s server could not be reached';
}

function findCause<T>(err: unknown, test: (e: unknown) => e is T): T | null {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++)
    if (test(e)) return e;
  return null;
}
