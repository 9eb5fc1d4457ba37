import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import { BusClientProxy } from '@broker/bus';
import type { ProviderList } from '@broker/contracts';
import { RequireScopes } from '@broker/identity';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ScopesGuard } from '../auth/scopes.guard';
import { parseListProvidersQuery } from './list-providers.query';

/** `/api/v2/externalOAuth/providers/` (seed 000). The org is the caller's, from its verified token. */
@Controller('api/v2/externalOAuth/providers')
@UseGuards(BearerAuthGuard, ScopesGuard)
export class ProvidersController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get()
  @RequireScopes('providers:read')
  list(@Query() query: unknown, @Req() req: { user: AuthenticatedCaller }): Promise<ProviderList> {
    return this.bus.request('providers.list', parseListProvidersQuery(query), { auth: req.user.token });
  }
}
