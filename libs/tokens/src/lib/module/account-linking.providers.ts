import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AuthorizationLinker } from '../authorizations/authorization-linker';
import { AuthorizationsService } from '../authorizations/authorizations.service';
import { AuthorizedProvidersService } from '../authorized-providers.service';
import { ConsentService } from '../consent/consent.service';
import { DeviceFlowService, DevicePollScheduler } from '../device-flow/device-flow.service';
import { ExternalAuthService } from '../external-auth/external-auth.service';
import { EventSink, ProviderAccess, ProviderDirectory } from '../ports';
import { TokenPath } from '../token-path';
import { TOKENS_DS, cipherOf, hasherOf } from './factory-inputs';
import {
  DEVICE_POLL_SCHEDULER,
  EVENT_SINK,
  PROVIDER_ACCESS,
  PROVIDER_DIRECTORY,
  PROVIDER_FETCH,
} from './injection-tokens';

const noDevicePoller: DevicePollScheduler = () =>
  Promise.reject(new Error('no device poller in this service'));

/** Linking a user's provider account: the consent and device flows, the linker they share, external auth. */
export const accountLinkingProviders: Provider[] = [
  {
    provide: AuthorizationLinker,
    inject: [AuthorizationsService, PROVIDER_FETCH, EVENT_SINK],
    useFactory: (authz: AuthorizationsService, f: typeof fetch, sink: EventSink) =>
      new AuthorizationLinker(authz, f, sink, 15_000),
  },
  {
    provide: ConsentService,
    inject: [TOKENS_DS, SERVICE_CONFIG, PROVIDER_ACCESS, AuthorizationLinker, PROVIDER_FETCH],
    useFactory: (
      ds: DataSource,
      c: ServiceConfig,
      access: ProviderAccess,
      linker: AuthorizationLinker,
      f: typeof fetch,
    ) =>
      new ConsentService(ds, cipherOf(c), access, linker, f, {
        defaultRedirectUri: `${c.publicUrl}/api/v2/externalOAuth/providers/callback/`,
        startPageUrl: `${c.publicUrl}/connect/start`,
        allowedRedirectUris: c.consentRedirectUris,
        stateTtlMs: 600_000,
        providerTimeoutMs: 15_000,
      }),
  },
  {
    provide: DeviceFlowService,
    inject: [
      TOKENS_DS,
      SERVICE_CONFIG,
      PROVIDER_ACCESS,
      AuthorizationLinker,
      PROVIDER_FETCH,
      { token: DEVICE_POLL_SCHEDULER, optional: true },
    ],
    useFactory: (
      ds: DataSource,
      c: ServiceConfig,
      access: ProviderAccess,
      linker: AuthorizationLinker,
      f: typeof fetch,
      schedule?: DevicePollScheduler,
    ) =>
      new DeviceFlowService(ds, cipherOf(c), hasherOf(c), access, linker, f, schedule ?? noDevicePoller, {
        providerTimeoutMs: 15_000,
      }),
  },
  {
    provide: ExternalAuthService,
    inject: [
      TOKENS_DS,
      AuthorizedProvidersService,
      TokenPath,
      PROVIDER_ACCESS,
      PROVIDER_FETCH,
      { token: PROVIDER_DIRECTORY, optional: true },
    ],
    useFactory: (
      ds: DataSource,
      authorized: AuthorizedProvidersService,
      path: TokenPath,
      access: ProviderAccess,
      f: typeof fetch,
      directory?: ProviderDirectory,
    ) => new ExternalAuthService(ds, authorized, path, access, f, directory),
  },
];
