import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EnvelopeCipher } from '@broker/crypto';
import { SERVICE_CONFIG, ServiceConfig, domainDataSourceToken } from '@broker/service-runtime';
import { AuthorizationsService } from './authorizations/authorizations.service';
import { TOKENS_SCHEMA } from './tokens.schema';

/** Domain services of the tokens domain (authorizations and their encrypted token sets). */
@Module({
  providers: [
    {
      provide: AuthorizationsService,
      inject: [domainDataSourceToken(TOKENS_SCHEMA), SERVICE_CONFIG],
      useFactory: (ds: DataSource, config: ServiceConfig) => {
        if (!config.secrets) throw new Error(`${config.service} needs ENCRYPTION_KEYS and SECRET_PEPPER`);
        return new AuthorizationsService(ds, new EnvelopeCipher(config.secrets.keyring));
      },
    },
  ],
  exports: [AuthorizationsService],
})
export class TokensDomainModule {}
