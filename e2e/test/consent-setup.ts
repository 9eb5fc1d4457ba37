import { DataSource } from 'typeorm';
import { KeyedHasher } from '@broker/crypto';
import {
  ClientCredentials,
  ClientsService,
  IDENTITY_SCHEMA,
  TokenGrantsService,
  UsersService,
} from '@broker/identity';
import { domainDataSourceOptions } from '@broker/service-runtime';
import { signInAtDemoIdp } from '@broker/testing';
import type { bearerApi } from './system-setup';

// The set-up steps of a suite that needs a person with a linked provider account: the person
// invited into the org, a token acting for them, the demo identity provider registered as an OIDC
// provider, and the consent flow run through the API with a sign-in at the demo provider.

/** The gateway call of a suite (see `bearerApi`). */
type Api = ReturnType<typeof bearerApi>;

/** A response's JSON body once its status is `status` (on another, the failure shows the body). */
export async function bodyWithStatus<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status });
  return JSON.parse(text) as T;
}

/** Runs `work` with a connection to the identity schema (as the admin tool has), closed after. */
export async function withIdentityDb<T>(
  dbUrl: string,
  connectionName: string,
  work: (ds: DataSource) => Promise<T>,
): Promise<T> {
  const ds = await new DataSource(
    domainDataSourceOptions(dbUrl, IDENTITY_SCHEMA, connectionName),
  ).initialize();
  try {
    return await work(ds);
  } finally {
    await ds.destroy();
  }
}

/** Invites a person into the default org (as `create-user` does), so the broker may act for them. */
export function inviteUser(dbUrl: string, connectionName: string, sub: string, email: string): Promise<void> {
  return withIdentityDb(dbUrl, connectionName, async (ds) => {
    await new UsersService(ds).upsert('default', { sub, email });
  });
}

/** The scopes a person needs to link provider accounts and be served their tokens. */
export const LINKING_SCOPES = ['authorizations:read', 'authorizations:write', 'tokens:read'];

/** A token acting for `sub` (a person of the admin's org), made by the admin. */
export async function delegatedToken(
  api: Api,
  admin: string,
  sub: string,
  scopes: string[] = LINKING_SCOPES,
): Promise<string> {
  const res = await api('/api/v1/oauth/delegated-token', admin, { method: 'POST', body: { sub, scopes } });
  return (await bodyWithStatus<{ access_token: string }>(res, 200)).access_token;
}

/** The demo identity provider as the org registers it: its issuer and the broker's client there. */
export interface DemoProvider {
  issuer: string;
  clientSecret: string;
  clientId?: string;
  name?: string;
}

/** Registers the demo identity provider as an `oidc` provider of the admin's org; its id. */
export async function registerDemoProvider(api: Api, admin: string, provider: DemoProvider): Promise<string> {
  const created = await api('/api/v2/externalOAuth/providers/', admin, {
    method: 'POST',
    body: {
      type: 'oidc',
      name: provider.name ?? 'Demo',
      clientId: provider.clientId ?? 'broker-provider',
      clientSecret: provider.clientSecret,
      issuer: provider.issuer,
    },
  });
  return (await bodyWithStatus<{ id: string }>(created, 201)).id;
}

/**
 * Links the demo provider account `email` to the person `userToken` acts for: the consent started
 * and completed through the API with their token, the person signing in at the demo provider;
 * the new authorization's id.
 */
export async function linkDemoAccount(
  api: Api,
  base: string,
  userToken: string,
  providerId: string,
  email: string,
  state?: string,
): Promise<string> {
  const query = state === undefined ? '' : `?state=${state}`;
  const start = await api(`/api/v2/externalOAuth/providers/${providerId}/authorize/${query}`, userToken, {
    method: 'POST',
  });
  const { redirectUrl } = await bodyWithStatus<{ redirectUrl: string }>(start, 200);
  const back = await signInAtDemoIdp(redirectUrl, email, (u) =>
    u.startsWith(`${base}/api/v2/externalOAuth/providers/callback`),
  );
  const iss = back.searchParams.get('iss');
  const done = await api('/api/v2/externalOAuth/providers/callback/', userToken, {
    method: 'POST',
    body: {
      code: back.searchParams.get('code'),
      state: back.searchParams.get('state'),
      providerId,
      ...(iss ? { iss } : {}),
    },
  });
  return (await bodyWithStatus<{ authorizedProvider: { id: string } }>(done, 200)).authorizedProvider.id;
}

/** The org's clients as the admin tool manages them (secrets hashed with the system's pepper). */
export function clientsService(ds: DataSource, env: Record<string, string>): ClientsService {
  return new ClientsService(ds, new KeyedHasher(Buffer.from(env['SECRET_PEPPER'], 'base64')));
}

/**
 * A service of the default org (client_credentials, `tokens:read`) granted every provider token
 * of the org (a consumer policy: a new client is served nothing until granted); its credentials.
 */
export function grantedServiceClient(
  dbUrl: string,
  env: Record<string, string>,
  connectionName: string,
  name: string,
  description: string,
): Promise<ClientCredentials> {
  return withIdentityDb(dbUrl, connectionName, async (ds) => {
    const service = await clientsService(ds, env).createClient({
      orgId: 'default',
      name,
      grantTypes: ['client_credentials'],
      scopes: ['tokens:read'],
    });
    await new TokenGrantsService(ds).create('default', service.clientId, {
      providers: '*',
      subjects: { mode: 'org', users: [] },
      maxScopes: null,
      maxLifetimeSeconds: null,
      description,
    });
    return service;
  });
}
