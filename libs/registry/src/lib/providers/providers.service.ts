import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { ListProvidersQuery, OAuthProvider } from '@broker/contracts';
import { ProviderEntity } from './provider.entity';

/** Reads and writes an org's providers; every query is scoped by org. */
@Injectable()
export class ProvidersService {
  constructor(@InjectRepository(ProviderEntity) private readonly providers: Repository<ProviderEntity>) {}

  /** The org's providers matching the filters (each filter is "any of"), newest first unless asked otherwise. */
  async list(orgId: string, query: ListProvidersQuery): Promise<OAuthProvider[]> {
    const qb = this.providers.createQueryBuilder('p').where('p.org_id = :orgId', { orgId });
    if (query.ids?.length) qb.andWhere('p.id::text IN (:...ids)', { ids: query.ids });
    if (query.types?.length) qb.andWhere('p.type IN (:...types)', { types: query.types });
    if (query.host?.length) qb.andWhere('p.host IN (:...hosts)', { hosts: query.host });
    qb.orderBy('p.created_at', query.orderBy === 'createdAt' ? 'ASC' : 'DESC').addOrderBy('p.id', 'ASC');
    return (await qb.getMany()).map(toOAuthProvider);
  }
}

/** The public shape of a provider (seed 000 `models.OAuthProvider`). */
export function toOAuthProvider(p: ProviderEntity): OAuthProvider {
  return {
    id: p.id,
    orgId: p.orgId,
    name: p.name,
    type: p.type,
    status: p.status,
    clientId: p.clientId,
    customScopes: p.customScopes,
    skipConsent: p.skipConsent,
    secureConfigId: p.secureConfigId ?? '',
    metadata: p.metadata,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}
