import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BusClientProxy } from '@broker/bus';
import type { JobLocation, OAuthProvider, ProviderList } from '@broker/contracts';
import { RequireScopes } from '@broker/auth-kit';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ScopesGuard } from '../auth/scopes.guard';
import { parseListProvidersQuery } from './list-providers.query';
import { parseCreateProvider, parseId, parseUpdateProvider } from './provider-bodies';

type Authed = { user: AuthenticatedCaller };

/** `/api/v2/externalOAuth/providers/` (seed 000). The org is the caller's, from its verified token. */
@Controller('api/v2/externalOAuth/providers')
@UseGuards(BearerAuthGuard, ScopesGuard)
export class ProvidersController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get()
  @RequireScopes('providers:read')
  list(@Query() query: unknown, @Req() req: Authed): Promise<ProviderList> {
    return this.bus.request('providers.list', parseListProvidersQuery(query), { auth: req.user.token });
  }

  @Post()
  @RequireScopes('providers:write')
  create(@Body() body: unknown, @Req() req: Authed): Promise<OAuthProvider> {
    return this.bus.request('providers.create', parseCreateProvider(body), { auth: req.user.token });
  }

  @Get(':providerId')
  @RequireScopes('providers:read')
  get(@Param('providerId') id: string, @Req() req: Authed): Promise<OAuthProvider> {
    return this.bus.request('providers.get', { id: parseId(id, 'providerId') }, { auth: req.user.token });
  }

  @Patch(':providerId')
  @RequireScopes('providers:write')
  update(@Param('providerId') id: string, @Body() body: unknown, @Req() req: Authed): Promise<OAuthProvider> {
    return this.bus.request(
      'providers.update',
      { id: parseId(id, 'providerId'), changes: parseUpdateProvider(body) },
      { auth: req.user.token },
    );
  }

  /** 202 with the deletion job's location (also in the `Location` header). */
  @Delete(':providerId')
  @HttpCode(202)
  @RequireScopes('providers:write')
  async delete(
    @Param('providerId') id: string,
    @Req() req: Authed,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<JobLocation> {
    const job = await this.bus.request(
      'providers.delete',
      { id: parseId(id, 'providerId') },
      { auth: req.user.token },
    );
    res.header('Location', job.location);
    return job;
  }
}
