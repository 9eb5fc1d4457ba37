import type { ProviderType } from '@broker/contracts';

const DAY = 86_400;

/**
 * How long a refresh token stays usable at a provider when nobody uses it (its idle window), in
 * seconds; null where the provider documents no such expiry. The worker keeps an idle
 * authorization alive by refreshing it only this often (with a margin), instead of every access
 * token lifetime. A refresh token with its own stated expiry (GitHub's `refresh_token_expires_in`,
 * stored with the authorization) is kept alive before that moment whatever this table says.
 *
 * Sources (checked November 2026):
 * - Atlassian Cloud (Jira, Confluence): rotating refresh tokens expire after 90 days of inactivity
 *   (developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps, "Use a refresh token").
 * - Atlassian Data Center and Bitbucket Data Center: no documented idle expiry of their own; the
 *   same 90 days is assumed (a keep-alive every ~67 days costs next to nothing).
 * - Microsoft identity platform (microsoft, sharepoint): refresh tokens live 90 days and each use
 *   returns a new one (learn.microsoft.com/entra/identity-platform/refresh-tokens).
 * - Box: a refresh token is valid for one use within 60 days
 *   (developer.box.com/guides/authentication/tokens/refresh).
 * - Google: a refresh token that has not been used for six months stops working
 *   (developers.google.com/identity/protocols/oauth2#expiration). Apps in "Testing" get refresh
 *   tokens that end after 7 days whatever their use: nothing here can keep those alive.
 * - GitHub App user tokens: the refresh token's own lifetime (`refresh_token_expires_in`, about six
 *   months, renewed by each refresh) applies, stored per authorization; OAuth App tokens do not
 *   expire and have no refresh token (docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens).
 * - GitLab and Bitbucket Cloud: refresh tokens are documented without an expiry (they end when
 *   used or revoked).
 * - Generic OIDC / OAuth 2.0: unknown; assume 14 days, the default refresh token lifetime of common
 *   open-source servers (panva's oidc-provider), unless the token response states its own expiry.
 */
const IDLE_SECONDS: Record<ProviderType, { cloud: number | null; selfHosted?: number | null }> = {
  github: { cloud: null, selfHosted: null },
  gitlab: { cloud: null, selfHosted: null },
  bitbucket: { cloud: null, selfHosted: 90 * DAY },
  google: { cloud: 182 * DAY },
  box: { cloud: 60 * DAY },
  microsoft: { cloud: 90 * DAY },
  sharepoint: { cloud: 90 * DAY },
  jira: { cloud: 90 * DAY, selfHosted: 90 * DAY },
  confluence: { cloud: 90 * DAY, selfHosted: 90 * DAY },
  oidc: { cloud: 14 * DAY },
  oauth2: { cloud: 14 * DAY },
};

/** The idle window of a provider instance's refresh tokens (seconds), or null when they do not expire unused. */
export function refreshTokenIdleSeconds(provider: {
  type: ProviderType;
  selfHosted: boolean;
}): number | null {
  const entry = IDLE_SECONDS[provider.type];
  return provider.selfHosted && entry.selfHosted !== undefined ? entry.selfHosted : entry.cloud;
}
