import { Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BusClientProxy } from '@broker/bus';
import type { JobLocation, OAuthProviderJob } from '@broker/contracts';
import { RequireScopes } from '@broker/auth-kit';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ScopesGuard } from '../auth/scopes.guard';
import { parseCreateJob, parseId } from './provider-bodies';

type Authed = { user: AuthenticatedCaller };

/** `/api/v2/externalOAuth/jobs/` (seed 000): the org's deletion and statistics jobs. */
@Controller('api/v2/externalOAuth/jobs')
@UseGuards(BearerAuthGuard, ScopesGuard)
export class JobsController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get(':jobId')
  @RequireScopes('jobs:read')
  get(@Param('jobId') id: string, @Req() req: Authed): Promise<OAuthProviderJob> {
    return this.bus.request('jobs.get', { id: parseId(id, 'jobId') }, { auth: req.user.token });
  }

  /** Starts a STATS job: 202 with its location. */
  @Post()
  @HttpCode(202)
  @RequireScopes('jobs:write')
  async create(
    @Body() body: unknown,
    @Req() req: Authed,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<JobLocation> {
    const job = await this.bus.request('jobs.create', parseCreateJob(body), { auth: req.user.token });
    res.header('Location', job.location);
    return job;
  }
}
