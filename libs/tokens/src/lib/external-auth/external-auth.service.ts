import { DataSource, In } from 'typeorm';
import {
  NO_EXPIRY,
  type DeleteExternalAuthResponse,
  type ExternalAuth,
  type ExternalAuthLink,
  type ExternalAuthLinkProvider,
  type ExternalAuthUser,
  type ListUserExternalAuthResponse,
} from '@broker/contracts';
import { adapterFor, ProviderCallError, type AppInstallation } from '@broker/provider-adapters';
import { AuthorizationEntity } from '../authorizations/authorization.entity';
import { CredentialEntity } from '../authorizations/credential.entity';
import { AuthorizedProvidersService } from '../authorized-providers.service';
import { ProviderAccess, ProviderCredentials, ProviderDirectory } from '../ports';
import { TokensError } from '../tokens-error';
import { TokenPath } from '../token-path';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Seed 001's external-auth surface over the tokens domain: a user's links are their
 * authorizations, `{externalauth}` is a provider id of their org. "Authenticated" means the
 * provider's own validate call accepted a valid access token of the link (refreshed if needed).
 */
export class ExternalAuthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly authorized: AuthorizedProvidersService,
    private readonly tokens: TokenPath,
    private readonly providers: ProviderAccess,
    private readonly fetchImpl: typeof fetch,
    private readonly directory: ProviderDirectory = () => Promise.resolve([]),
    private readonly validateTimeoutMs = 8_000,
  ) {}

  /**
   * Coder's `{providers, links}`: the org's active providers the user can link, with what each
   * supports, and the user's links, each validated at its provider (in parallel). A link whose
   * provider is not active is listed (so it can be unlinked) as not authenticated.
   */
  async list(orgId: string, userId: string): Promise<ListUserExternalAuthResponse> {
    const [providers, links] = await Promise.all([this.linkableProviders(orgId), this.links(orgId, userId)]);
    return { providers, links };
  }

  private async linkableProviders(orgId: string): Promise<ExternalAuthLinkProvider[]> {
    const ids = await this.directory(orgId);
    const found = await Promise.all(ids.map((id) => this.providers(orgId, id).catch(() => null)));
    return found
      .filter((c): c is ProviderCredentials => c !== null && c.provider.status === 'active')
      .map((c) => {
        const adapter = adapterFor(c.resolved);
        const capabilities = adapter.capabilities(c.resolved);
        return {
          id: c.provider.id,
          type: c.provider.type,
          device: capabilities.deviceFlow && typeof adapter.startDeviceAuthorization === 'function',
          display_name: c.provider.name || c.resolved.displayName,
          display_icon: '',
          allow_refresh: true,
          allow_validate: capabilities.validate,
          supports_revocation: capabilities.revocation,
          code_challenge_methods_supported: capabilities.pkce ? ['S256'] : [],
        };
      });
  }

  private async links(orgId: string, userId: string): Promise<ExternalAuthLink[]> {
    const rows = await this.dataSource
      .getRepository(AuthorizationEntity)
      .find({ where: { orgId, userId }, order: { createdAt: 'ASC' } });
    // One read for every link's credential, not one per link.
    const credentials = rows.length
      ? await this.dataSource
          .getRepository(CredentialEntity)
          .find({ where: { orgId, authorizationId: In(rows.map((r) => r.id)) } })
      : [];
    const credentialOf = new Map(credentials.map((c) => [c.authorizationId, c]));
    const links = await Promise.all(
      rows.map(async (row): Promise<ExternalAuthLink | null> => {
        const provider = await this.providers(orgId, row.providerId);
        if (!provider) return null; // the provider was deleted: its links are on their way out
        const check = await this.validate(orgId, row, provider);
        const credential = credentialOf.get(row.id);
        return {
          provider_id: row.providerId,
          created_at: row.createdAt.toISOString(),
          updated_at: (credential && credential.updatedAt > row.updatedAt
            ? credential.updatedAt
            : row.updatedAt
          ).toISOString(),
          has_refresh_token: Boolean(credential?.refreshToken),
          expires: credential?.expiresAt ? credential.expiresAt.toISOString() : NO_EXPIRY,
          authenticated: check.valid,
          validate_error: check.error ?? '',
        };
      }),
    );
    return links.filter((l): l is ExternalAuthLink => l !== null);
  }

  /** One of the org's providers as the user sees it (NOT_FOUND for an unknown id or another org's). */
  async get(orgId: string, userId: string, providerId: string): Promise<ExternalAuth> {
    const credentials = await this.provider(orgId, providerId);
    // Seed 001 knows one link per provider: with several accounts there, the most recently linked one.
    const row = await this.dataSource
      .getRepository(AuthorizationEntity)
      .findOne({ where: { orgId, userId, providerId }, order: { createdAt: 'DESC' } });
    const adapter = adapterFor(credentials.resolved);
    const capabilities = adapter.capabilities(credentials.resolved);
    const check = row ? await this.validate(orgId, row, credentials) : { valid: false };
    const installations = row && check.valid ? await this.installations(orgId, row, credentials) : [];
    const appInstallUrl =
      adapter.appInstallUrl?.(credentials.resolved, credentials.githubApp, installations) ?? '';
    return {
      authenticated: check.valid,
      device: capabilities.deviceFlow && typeof adapter.startDeviceAuthorization === 'function',
      display_name: credentials.provider.name || credentials.resolved.displayName,
      supports_revocation: capabilities.revocation,
      user: row ? toExternalAuthUser(row.externalUser) : null,
      // GitHub App installations the user's token can reach (none for OAuth apps and other providers).
      installations: installations.map((i) => ({
        id: i.id,
        account: {
          id: i.account.id,
          login: i.account.login,
          name: i.account.name,
          avatar_url: i.account.avatarUrl,
          profile_url: i.account.profileUrl,
        },
        configure_url: i.configureUrl,
      })),
      app_install_url: appInstallUrl,
      app_installable: appInstallUrl !== '',
    };
  }

  /**
   * Unlinks through the authorized-providers path: best-effort revocation, removal whatever the
   * provider says. Seed 001 unlinks a provider: every account the user linked there goes.
   */
  async unlink(orgId: string, userId: string, providerId: string): Promise<DeleteExternalAuthResponse> {
    await this.provider(orgId, providerId);
    const rows = await this.dataSource
      .getRepository(AuthorizationEntity)
      .find({ where: { orgId, userId, providerId }, order: { createdAt: 'ASC' } });
    if (!rows.length) throw new TokensError('NOT_FOUND', 'No link to this external auth provider.');
    const errors: string[] = [];
    for (const row of rows) {
      const outcome = await this.authorized.remove(orgId, userId, row.id);
      if (!outcome.revoked) errors.push(outcome.revocationError ?? 'the link had no token to revoke');
    }
    return errors.length
      ? { token_revoked: false, token_revocation_error: [...new Set(errors)].join('; ') }
      : { token_revoked: true, token_revocation_error: '' };
  }

  private async provider(orgId: string, providerId: string): Promise<ProviderCredentials> {
    const credentials = UUID.test(providerId) ? await this.providers(orgId, providerId) : null;
    if (!credentials) throw new TokensError('NOT_FOUND', 'External auth provider not found.');
    return credentials;
  }

  /** The provider's verdict on a valid access token of the link; never throws. */
  /** The app installations the link's token reaches (best effort: none on any failure). */
  private async installations(
    orgId: string,
    row: AuthorizationEntity,
    credentials: ProviderCredentials,
  ): Promise<AppInstallation[]> {
    const adapter = adapterFor(credentials.resolved);
    if (!adapter.installations) return [];
    try {
      const served = await this.tokens.acquire(orgId, row.id);
      const client = {
        provider: credentials.resolved,
        clientId: credentials.provider.clientId,
        fetch: this.fetchImpl,
        timeoutMs: this.validateTimeoutMs,
      };
      return await adapter.installations(client, served.accessToken);
    } catch {
      return [];
    }
  }

  private async validate(
    orgId: string,
    row: AuthorizationEntity,
    credentials: ProviderCredentials,
  ): Promise<{ valid: boolean; error?: string }> {
    if (credentials.provider.status !== 'active')
      return {
        valid: false,
        error: `the provider is ${credentials.provider.status}: its tokens are not served until it is active again`,
      };
    if (row.status !== 'active')
      return { valid: false, error: `the link is ${row.status}: link the account again` };
    try {
      const served = await this.tokens.acquire(orgId, row.id);
      const client = {
        provider: credentials.resolved,
        clientId: credentials.provider.clientId,
        clientSecret: credentials.clientSecret,
        fetch: this.fetchImpl,
        timeoutMs: this.validateTimeoutMs,
      };
      return await adapterFor(credentials.resolved).validate(client, served.accessToken);
    } catch (err) {
      if (err instanceof TokensError && err.code === 'GONE')
        return { valid: false, error: 'the provider no longer accepts this link: link the account again' };
      if (err instanceof TokensError || (err instanceof ProviderCallError && err.kind === 'transient'))
        return { valid: false, error: `could not validate now: ${err.message}` };
      return { valid: false, error: err instanceof Error ? err.message : 'validation failed' };
    }
  }
}

/** Seed 001 `codersdk.ExternalAuthUser` from the stored `oauth.User` (raw answer included). */
export function toExternalAuthUser(stored: Record<string, unknown> | null): ExternalAuthUser {
  const user = (stored ?? {}) as {
    sub?: string;
    name?: string;
    nickName?: string;
    email?: string;
    picture?: string;
    raw?: Record<string, unknown>;
  };
  const raw = user.raw ?? {};
  const text = (...values: unknown[]) =>
    values.find((v): v is string => typeof v === 'string' && v.length > 0) ?? '';
  const numericId =
    typeof raw['id'] === 'number' ? raw['id'] : /^\d+$/.test(String(raw['id'] ?? '')) ? Number(raw['id']) : 0;
  return {
    id: Number.isSafeInteger(numericId) ? numericId : 0,
    login: text(user.nickName, raw['login'], raw['username'], user.email, user.sub),
    avatar_url: text(user.picture, raw['avatar_url']),
    profile_url: text(
      raw['html_url'],
      raw['web_url'],
      raw['profile'],
      raw['links'] && (raw['links'] as { html?: { href?: string } }).html?.href,
    ),
    name: text(user.name, raw['name'], user.nickName),
  };
}
