import { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { AuthorizationsService } from '../authorizations/authorizations.service';
import { AuthorizationsImport } from '../authorizations/authorizations-import';
import { RefreshSchedule } from '../refresh/refresh-schedule';
import { TOKENS_DS, cipherOf } from './factory-inputs';

/** The storage services: every app that loads the domain gets them, even without provider access. */
export const storageProviders: Provider[] = [
  {
    provide: AuthorizationsService,
    inject: [TOKENS_DS, SERVICE_CONFIG],
    useFactory: (ds: DataSource, c: ServiceConfig) => new AuthorizationsService(ds, cipherOf(c)),
  },
  {
    provide: RefreshSchedule,
    inject: [TOKENS_DS],
    useFactory: (ds: DataSource) => new RefreshSchedule(ds),
  },
  {
    provide: AuthorizationsImport,
    inject: [TOKENS_DS, SERVICE_CONFIG],
    useFactory: (ds: DataSource, c: ServiceConfig) => new AuthorizationsImport(ds, cipherOf(c)),
  },
];
