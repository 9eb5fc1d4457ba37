import type { AdapterClient, ResolvedProvider } from '../../src';
import type { OAuthFake } from '../fakes/oauth-fake';

/**
 * What an adapter is handed in these tests: the resolved provider, the app's credentials at the
 * fake (`secret` to present another one), the fake's fetch and a 2-second timeout.
 */
export function clientAtFake(
  provider: ResolvedProvider,
  fake: Pick<OAuthFake, 'fetch'>,
  app: { id: string; secret: string },
  secret = app.secret,
): AdapterClient {
  return { provider, clientId: app.id, clientSecret: secret, fetch: fake.fetch, timeoutMs: 2_000 };
}
