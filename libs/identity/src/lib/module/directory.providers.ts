import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KeyedHasher } from '@broker/crypto';
import { sharedEgress } from '@broker/egress';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { ClientMetadataSettings } from '../client-metadata/client-metadata-settings';
import {
  DEFAULT_METADATA_FETCH,
  MetadataDocumentClients,
} from '../client-metadata/metadata-document-clients';
import { ClientsService } from '../clients.service';
import { OrgsService } from '../orgs.service';
import { ResourceIndicators } from '../resource-indicators';
import { RevocationsService } from '../revocation/revocations.service';
import { SignInPolicy } from '../sign-in-policy';
import { TokenGrantsService } from '../token-grants/token-grants.service';
import { UsersService } from '../users.service';
import { IDENTITY_DS, requireSecrets } from './identity-data-source';

/** Who exists and what they may do: orgs, clients, users, consumer grants, revocations written. */
export const DIRECTORY_PROVIDERS: Provider[] = [
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
];
