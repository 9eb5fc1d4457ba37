import { Controller, Get, Query } from '@nestjs/common';
import { BusClientProxy } from '@broker/bus';
import type { ProviderList } from '@broker/contracts';
import { parseListProvidersQuery } from './list-providers.query';

/**
 * Until authentication lands (issue 4: bearer tokens, org from the verified token), every request
 * acts for the bootstrap org.
 */
const BOOTSTRAP_ORG_ID = 'default';

/** `/api/v2/externalOAuth/providers/` (seed 000). */
@Controller('api/v2/externalOAuth/providers')
export class ProvidersController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get()
  list(@Query() query: unknown): Promise<ProviderList> {
    return this.bus.request('providers.list', { orgId: BOOTSTRAP_ORG_ID, query: parseListProvidersQuery(query) });
  }
}
