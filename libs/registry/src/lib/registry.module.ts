import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProviderEntity } from './providers/provider.entity';
import { ProvidersService } from './providers/providers.service';

/** Domain services of the provider registry (needs the registry schema's TypeORM connection). */
@Module({
  imports: [TypeOrmModule.forFeature([ProviderEntity])],
  providers: [ProvidersService],
  exports: [ProvidersService],
})
export class RegistryDomainModule {}
