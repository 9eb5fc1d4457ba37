import { Inject, Injectable, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SCOPES } from '@broker/contracts';
import { EnvelopeCipher, KeyedHasher } from '@broker/crypto';
import { SERVICE_CONFIG, ServiceConfig, domainDataSourceToken } from '@broker/service-runtime';
import { IDENTITY_SCHEMA } from './identity.schema';
import { AccessTokenIssuer, AccessTokenVerifier, IdTokenIssuer } from './access-tokens';
import { AuthorizationEndpoint, userinfoEndpointReader } from './authorization-endpoint';
import { BusAuthGuard } from './authorization/bus-auth.guard';
import { DEFAULT_GRANT_POLICY, GrantsService } from './grants.service';
import { RevocationChannel } from './revocation/revocation-channel';
import { RevocationLifecycle } from './revocation/revocation-lifecycle';
import { DEFAULT_REVOCATION_SYNC, RevocationSync, revocationHealthLog } from './revocation/revocation-list';
import { RevocationsService } from './revocation/revocations.service';
import { SignInPolicy } from './sign-in-policy';
import { TokenStatusEndpoints } from './token-status';
import { PrincipalTokens } from './principal-tokens';
import { UsersService } from './users.service';
import { OrgsService } from './orgs.service';
import { ClientsService } from './clients.service';
import { SigningKeysService } from './signing-keys.service';
import { TokenEndpoint } from './token-endpoint';
import { TokenGrantsService } from './token-grants/token-grants.service';
import { ResourceIndicators } from './resource-indicators';
import { sharedEgress } from '@broker/egress';
import { ClientMetadataSettings } from './client-metadata/client-metadata-settings';
import { DEFAULT_METADATA_FETCH, MetadataDocumentClients } from './client-metadata/metadata-document-clients';

const IDENTITY_DS = domainDataSourceToken(IDENTITY_SCHEMA);

function requireSecrets(config: ServiceConfig): NonNullable<ServiceConfig['secrets']> {
  if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
  return config.secrets;
}

/** Creates the bootstrap org and, when its secret is configured, the admin client, at start-up. */
@Injectable()
class IdentityBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('IdentityBootstrap');
  constructor(
    private readonly clients: ClientsService,
    private readonly keys: SigningKeysService,
    private readonly grants: TokenGrantsService,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { orgId, clientId, clientSecret } = this.config.identity.bootstrap;
    await this.clients.ensureOrg(orgId, orgId);
    if (clientSecret) {
      await this.clients.ensureClient(
        { orgId, name: 'bootstrap admin', grantTypes: ['client_credentials'], scopes: [...SCOPES] },
        clientId,
        clientSecret,
      );
      // The bootstrap admin keeps being served every token of its org (unless an operator narrowed it).
      if (await this.grants.ensureFullGrant(orgId, clientId))
        this.logger.log(`bootstrap client '${clientId}' granted every provider token of org '${orgId}'`);
      this.logger.log(`bootstrap client '${clientId}' of org '${orgId}' is ready`);
    }
    const moved = await this.keys.rewrapAll();
    if (moved)
      this.logger.log(
        `${moved} signing key(s) re-wrapped under encryption key '${this.config.secrets?.keyring.activeKeyId}'`,
      );
    await this.keys.signingKey();
  }
}

/** The broker's own OAuth server: clients, signing keys, the token endpoint (needs the identity schema). */
@Module({
  providers: [
    {
      provide: RevocationsService,
      inject: [IDENTITY_DS],
      useFactory: (ds: DataSource) => new RevocationsService(ds),
    },
    {
      provide: ClientsService,
      inject: [IDENTITY_DS, SERVICE_CONFIG, RevocationsService],
      useFactory: (ds: DataSource, config: ServiceConfig, revocations: RevocationsService) =>
        new ClientsService(ds, new KeyedHasher(requireSecrets(config).pepper), revocations),
    },
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
      provide: ClientMetadataSettings,
      inject: [IDENTITY_DS],
      useFactory: (ds: DataSource) => new ClientMetadataSettings(ds),
    },
    {
      // Client documents come from URLs anybody names: fetched only through the egress guard, small, fast, never redirected.
      provide: MetadataDocumentClients,
      inject: [IDENTITY_DS, ClientMetadataSettings, SERVICE_CONFIG],
      useFactory: (ds: DataSource, settings: ClientMetadataSettings, config: ServiceConfig) =>
        new MetadataDocumentClients(
          ds,
          settings,
          sharedEgress(config.egress).fetch({
            timeoutMs: DEFAULT_METADATA_FETCH.timeoutMs,
            maxResponseBytes: DEFAULT_METADATA_FETCH.maxBytes,
            maxRedirects: 0,
          }),
          config.egress,
        ),
    },
    {
      provide: UsersService,
      inject: [IDENTITY_DS, RevocationsService],
      useFactory: (ds: DataSource, revocations: RevocationsService) => new UsersService(ds, revocations),
    },
    {
      provide: OrgsService,
      inject: [IDENTITY_DS, RevocationsService],
      useFactory: (ds: DataSource, revocations: RevocationsService) => new OrgsService(ds, revocations),
    },
    {
      provide: TokenGrantsService,
      inject: [IDENTITY_DS],
      useFactory: (ds: DataSource) => new TokenGrantsService(ds),
    },
    {
      provide: ResourceIndicators,
      inject: [SERVICE_CONFIG],
      useFactory: (config: ServiceConfig) =>
        new ResourceIndicators(`${config.publicUrl}/api`, config.resourceServers),
    },
    { provide: SignInPolicy, inject: [IDENTITY_DS], useFactory: (ds: DataSource) => new SignInPolicy(ds) },
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
    // The token-broker reads the revocation list from PostgreSQL and serves it to the other verifiers.
    {
      provide: RevocationSync,
      inject: [RevocationsService],
      useFactory: (revocations: RevocationsService) =>
        new RevocationSync(
          async () => {
            const { entries, version } = await revocations.read();
            return { version, ageMs: 0, entries };
          },
          DEFAULT_REVOCATION_SYNC,
          revocationHealthLog,
        ),
    },
    // The token-broker verifies bus callers against its own keys, without a bus round trip.
    {
      provide: AccessTokenVerifier,
      inject: [SigningKeysService, SERVICE_CONFIG, RevocationSync],
      useFactory: (keys: SigningKeysService, config: ServiceConfig, revocations: RevocationSync) =>
        new AccessTokenVerifier(
          () => keys.jwks(),
          config.publicUrl,
          `${config.publicUrl}/api`,
          5_000,
          revocations,
          config.resourceServers,
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
    {
      provide: RevocationLifecycle,
      inject: [RevocationSync, SERVICE_CONFIG, RevocationsService],
      useFactory: (sync: RevocationSync, config: ServiceConfig, revocations: RevocationsService) =>
        new RevocationLifecycle(
          sync,
          new RevocationChannel(config.redisUrl, config.bus.prefix, config.service),
          revocations,
        ),
    },
    BusAuthGuard,
    IdentityBootstrap,
  ],
  exports: [
    OrgsService,
    ClientsService,
    SigningKeysService,
    AccessTokenIssuer,
    TokenEndpoint,
    AuthorizationEndpoint,
    GrantsService,
    UsersService,
    PrincipalTokens,
    AccessTokenVerifier,
    BusAuthGuard,
    RevocationsService,
    RevocationSync,
    SignInPolicy,
    TokenStatusEndpoints,
    TokenGrantsService,
    ResourceIndicators,
    ClientMetadataSettings,
  ],
})
export class IdentityDomainModule {}
