import { randomUUID } from 'node:crypto';
import type { OAuthProvider } from '@broker/contracts';
import { AuthorizedProvidersService, ProviderAccess, ServedToken, TokensError } from '../src';
import { fakeProviderRow } from './support/fake-provider';

const provider = fakeProviderRow(randomUUID());

function served(): ServedToken {
  return {
    accessToken: 'at-1',
    tokenType: 'Bearer',
    expiresAt: new Date(Date.now() + 60_000),
    authorizationId: randomUUID(),
    providerId: provider.id,
    userId: 'u-1',
    scopes: [],
    oauthClientId: 'client',
    credentialId: randomUUID(),
    createdAt: new Date(),
    refreshTokenExpiresAt: null,
    refreshed: false,
  };
}

/** Builds the service with only the ports the display path may reach; the rest fails if touched. */
function service(access: ProviderAccess, summary?: (o: string, p: string) => Promise<OAuthProvider | null>) {
  const untouchable = new Proxy({}, { get: () => () => Promise.reject(new Error('not on this path')) });
  return new AuthorizedProvidersService(
    untouchable as never,
    untouchable as never,
    untouchable as never,
    access,
    fetch,
    () => undefined,
    summary,
  );
}

describe('the REST token answer shows the provider from its secret-free summary', () => {
  it('never asks for the credentials (the client secret) when a summary port is wired', async () => {
    const credentialReads: string[] = [];
    const access: ProviderAccess = async (_orgId, providerId) => {
      credentialReads.push(providerId);
      throw new Error('the client secret must not be read to display a provider');
    };
    const summaries: string[] = [];
    const answer = await service(access, async (_orgId, providerId) => {
      summaries.push(providerId);
      return provider;
    }).accessTokenResponse('org', served());
    expect(credentialReads).toEqual([]);
    expect(summaries).toEqual([provider.id]);
    expect(answer.accessToken).toBe('at-1');
    expect(answer.authorizedOauthProvider).toMatchObject({ id: expect.any(String) });
    expect(JSON.stringify(answer)).not.toContain('client-secret');
  });

  it('answers NOT_FOUND when the summary says the provider is gone', async () => {
    const err = await service(
      async () => null,
      async () => null,
    )
      .accessTokenResponse('org', served())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokensError);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('without a summary port (the worker) shows the provider of the credentials it reads anyway', async () => {
    const answer = await service(async () => ({
      provider,
      resolved: {} as never,
      clientSecret: 'client-secret',
    })).accessTokenResponse('org', served());
    expect(answer.authorizedOauthProvider).toBeDefined();
    expect(JSON.stringify(answer)).not.toContain('client-secret');
  });
});
