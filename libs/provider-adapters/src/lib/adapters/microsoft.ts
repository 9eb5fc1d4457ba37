import type { OAuthUser } from '@broker/contracts';
import type { AdapterClient, ConsentPrompt } from '../adapter';
import { ProviderCallError, call, normalizeUser, withoutUndefined } from '../provider-call';
import type { ResolvedProvider } from '../resolve';
import { getJson, isObject } from './http';
import { StandardAdapter, asObject } from './standard';

type Kind = ProviderCallError['kind'];

/**
 * AADSTS codes (Entra's `error_codes` / `AADSTSnnnn:` in `error_description`) whose meaning
 * differs from, or sharpens, the OAuth `error` they come with. Source: Microsoft Entra
 * authentication and authorization error codes.
 */
const AADSTS: Readonly<Record<number, Kind>> = {
  // The grant is dead: the user must sign in / consent again.
  70008: 'invalid_grant', // code or refresh token expired
  700082: 'invalid_grant', // refresh token expired due to inactivity
  700084: 'invalid_grant', // SPA refresh token lifetime ended
  50173: 'invalid_grant', // grant expired: credentials changed / revoked sessions
  50076: 'invalid_grant', // MFA now required (conditional access)
  50079: 'invalid_grant', // MFA registration required
  65001: 'invalid_grant', // consent missing / withdrawn
  70000: 'invalid_grant', // grant invalid or malformed
  700003: 'invalid_grant', // device object gone
  // The app's credentials are refused.
  7000215: 'invalid_client', // invalid client secret
  7000222: 'invalid_client', // client secret expired
  700016: 'invalid_client', // application not found in the tenant
  7000218: 'invalid_client', // no client_secret / client_assertion
  // Entra is struggling: retry later.
  50196: 'transient', // loop detected (throttling)
  90033: 'transient', // temporary service issue
};

/** Errors whose answer is "the user must act again". */
const USER_ACTION = ['interaction_required', 'consent_required', 'login_required'];

/** The AADSTS codes of an Entra error answer. */
export function aadstsCodes(body: Record<string, unknown>): number[] {
  const codes = Array.isArray(body['error_codes'])
    ? body['error_codes'].filter((c): c is number => typeof c === 'number')
    : [];
  const described =
    typeof body['error_description'] === 'string' ? /AADSTS(\d+)/.exec(body['error_description']) : null;
  if (described) codes.push(Number(described[1]));
  return codes;
}

/**
 * Microsoft identity platform (Entra ID, v2.0 endpoints) with a tenant-specific authority
 * (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/...`, tenant `common` by default).
 * Deviations handled here:
 * - refresh tokens only with the `offline_access` scope: added when the scopes lack it;
 * - errors carry AADSTS codes that decide the outcome (expired refresh token AADSTS70008 /
 *   700082 → invalid_grant, bad client secret AADSTS7000215 → invalid_client even when reported
 *   as `invalid_request`...); `interaction_required` / `consent_required` → invalid_grant;
 * - the device flow says `authorization_declined` where RFC 8628 says `access_denied`;
 * - no revocation endpoint (catalogue: `none` → `unsupported`);
 * - the user is Microsoft Graph `GET /v1.0/me` (`id`, `displayName`, `mail`, `userPrincipalName`).
 * Refresh tokens rotate: each refresh returns one that replaces the old.
 */
export class MicrosoftAdapter extends StandardAdapter {
  constructor(type: 'microsoft' | 'sharepoint' = 'microsoft') {
    super(type);
  }

  /** Entra takes `prompt=consent` (Microsoft identity platform authorization request). */
  protected override consentPrompt(): ConsentPrompt {
    return 'optional';
  }

  protected override scopes(_provider: ResolvedProvider, scopes: string[]): string[] {
    return scopes.includes('offline_access') ? scopes : [...scopes, 'offline_access'];
  }

  protected override errorKind(error: string, body: Record<string, unknown>): Kind | undefined {
    for (const code of aadstsCodes(body)) if (AADSTS[code]) return AADSTS[code];
    if (USER_ACTION.includes(error)) return 'invalid_grant';
    if (error === 'bad_verification_code') return 'invalid_grant';
    return undefined;
  }

  protected override devicePollStatus(error: string) {
    return error === 'authorization_declined' ? 'denied' : super.devicePollStatus(error);
  }

  override classify(err: unknown): ProviderCallError {
    const mapped = super.classify(err);
    const body = (err as { cause?: unknown })?.cause;
    const code =
      isObject(body) && typeof (err as { error?: unknown }).error === 'string'
        ? aadstsCodes(body)[0]
        : undefined;
    return code
      ? new ProviderCallError(mapped.kind, `${mapped.message} [AADSTS${code}]`, mapped.retryAfterSeconds)
      : mapped;
  }

  override async userInfo(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return {};
    return call(
      async () => {
        const raw = asObject((await getJson(c, url, accessToken, 'Microsoft Graph')).body);
        const upn = typeof raw['userPrincipalName'] === 'string' ? raw['userPrincipalName'] : undefined;
        return withoutUndefined({ ...normalizeUser(raw), nickName: upn });
      },
      (err) => this.classify(err),
    );
  }
}

const OPENID_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/**
 * SharePoint Online: the Microsoft authority of the tenant with the SharePoint resource's scopes.
 * A bare scope (`AllSites.Read`) is qualified with the site host (`https://{host}/AllSites.Read`),
 * since one token is for one resource; `offline_access` is added as for Microsoft. The user is
 * `GET {base}/_api/web/currentuser` with `Accept: application/json;odata=nometadata` (the token's
 * audience is SharePoint, not Graph).
 */
export class SharePointAdapter extends MicrosoftAdapter {
  constructor() {
    super('sharepoint');
  }

  protected override scopes(provider: ResolvedProvider, scopes: string[]): string[] {
    const base = provider.metadata.baseUrl.replace(/\/+$/, '');
    const qualified = scopes.map((s) =>
      OPENID_SCOPES.includes(s) || /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('api://')
        ? s
        : `${base}/${s}`,
    );
    return super.scopes(provider, qualified);
  }

  override async userInfo(c: Omit<AdapterClient, 'clientSecret'>, accessToken: string): Promise<OAuthUser> {
    const url = c.provider.endpoints.userinfoUrl;
    if (!url) return {};
    return call(
      async () => {
        const raw = asObject(
          (await getJson(c, url, accessToken, 'SharePoint', { accept: 'application/json;odata=nometadata' }))
            .body,
        );
        const str = (v: unknown) =>
          typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : undefined;
        const userId = isObject(raw['UserId']) ? raw['UserId'] : {};
        return withoutUndefined<OAuthUser>({
          sub: str(userId['NameId']) ?? str(raw['LoginName']),
          name: str(raw['Title']),
          email: str(raw['Email']),
          nickName: str(raw['UserPrincipalName']),
          raw,
        });
      },
      (err) => this.classify(err),
    );
  }
}
