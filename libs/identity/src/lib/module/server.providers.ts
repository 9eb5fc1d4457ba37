import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccessTokenVerifier } from '@broker/auth-kit';
import { EnvelopeCipher, KeyedHasher } from '@broker/crypto';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AccessTokenIssuer, IdTokenIssuer } from '../access-tokens';
import { AuthorizationEndpoint, userinfoEndpointReader } from '../authorization-endpoint';
import { MetadataDocumentClients } from '../client-metadata/metadata-document-clients';
import { ClientsService } from '../clients.service';
import { DEFAULT_GRANT_POLICY, GrantsService } from '../grants.service';
import { PrincipalTokens } from '../principal-tokens';
import { ResourceIndicators } from '../resource-indicators';
import { RevocationsService } from '../revocation/revocations.service';
import { SignInPolicy } from '../sign-in-policy';
import { SigningKeysService } from '../signing-keys.service';
import { TokenEndpoint } from '../token-endpoint';
import { TokenStatusEndpoints } from '../token-status';
import { UsersService } from '../users.service';
import { IDENTITY_DS, requireSecrets } from './identity-data-source';

/** The authorization server: signing keys, issuers, codes and refresh tokens, its endpoints. */
export const SERVER_PROVIDERS: Provider[] = [
  {
    provide: SigningKeysService,
    inject: [IDENTITY_DS, SERVICE_CONFIG],
    useFactory: (ds: DataSource, config: ServiceConfig) =>
      new SigningKeysService(ds, new EnvelopeCipher(requireSecrets(config).keyring)),
  },
  {
    provide: AccessTokenIssuer,
    inject: [SigningKeysService, SERVICE_CONFIG],
    useFactory: (keys: SigningKeysService, config: ServiceConfig) =>
      new AccessTokenIssuer(keys, config.publicUrl, `${config.publicUrl}/api`),
  },
  {
    provide: GrantsService,
    inject: [IDENTITY_DS, SERVICE_CONFIG, RevocationsService],
    useFactory: (ds: DataSource, config: ServiceConfig, revocations: RevocationsService) =>
      new GrantsService(
        ds,
        new KeyedHasher(requireSecrets(config).pepper),
        DEFAULT_GRANT_POLICY,
        revocations,
      ),
  },
  {
    provide: IdTokenIssuer,
    inject: [SigningKeysService, SERVICE_CONFIG],
    useFactory: (keys: SigningKeysService, config: ServiceConfig) =>
      new IdTokenIssuer(keys, config.publicUrl),
  },
  {
    provide: TokenEndpoint,
    inject: [
      ClientsService,
      AccessTokenIssuer,
      SERVICE_CONFIG,
      GrantsService,
      IdTokenIssuer,
      UsersService,
      ResourceIndicators,
      MetadataDocumentClients,
    ],
    useFactory: (
      clients: ClientsService,
      issuer: AccessTokenIssuer,
      config: ServiceConfig,
      grants: GrantsService,
      idTokens: IdTokenIssuer,
      users: UsersService,
      resources: ResourceIndicators,
      metadataClients: MetadataDocumentClients,
    ) =>
      new TokenEndpoint(
        clients,
        issuer,
        config.identity.accessTokenTtlSeconds,
        grants,
        { issuer: idTokens, users },
        resources,
        metadataClients,
      ),
  },
  {
    provide: AuthorizationEndpoint,
    inject: [
      IDENTITY_DS,
      GrantsService,
      SignInPolicy,
      SERVICE_CONFIG,
      ResourceIndicators,
      MetadataDocumentClients,
    ],
    useFactory: (
      ds: DataSource,
      grants: GrantsService,
      policy: SignInPolicy,
      config: ServiceConfig,
      resources: ResourceIndicators,
      metadataClients: MetadataDocumentClients,
    ) =>
      new AuthorizationEndpoint(
        ds,
        grants,
        policy,
        config.upstreamLogin ? userinfoEndpointReader(config.upstreamLogin.userinfoUrl) : undefined,
        resources,
        metadataClients,
      ),
  },
  {
    provide: PrincipalTokens,
    inject: [UsersService, AccessTokenIssuer, SERVICE_CONFIG, ClientsService],
    useFactory: (
      users: UsersService,
      issuer: AccessTokenIssuer,
      config: ServiceConfig,
      clients: ClientsService,
    ) =>
      new PrincipalTokens(
        users,
        issuer,
        config.identity.accessTokenTtlSeconds,
        config.identity.delegatedTokenTtlSeconds,
        clients,
      ),
  },
  {
    provide: TokenStatusEndpoints,
    inject: [ClientsService, GrantsService, AccessTokenVerifier, RevocationsService],
    useFactory: (
      clients: ClientsService,
      grants: GrantsService,
      verifier: AccessTokenVerifier,
      revocations: RevocationsService,
    ) => new TokenStatusEndpoints(clients, grants, verifier, revocations),
  },
];
