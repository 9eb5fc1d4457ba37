import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { BusClientProxy } from '@broker/bus';
import {
  CreateOAuthSetupRequest,
  OAuthSetup,
  Page,
  createOAuthSetupSchema,
  listOAuthSetupsQuerySchema,
  schemaProblems,
  updateOAuthSetupSchema,
} from '@broker/contracts';
import { RequireScopes } from '@broker/auth-kit';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ScopesGuard } from '../auth/scopes.guard';
import { OAuthSetupsHttpError } from './oauth-setups-error.filter';

type Authed = { user: AuthenticatedCaller };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path id: a UUID (anything else is a 404, as an unknown id: nothing is looked up). */
export function pathId(value: string, what: string): string {
  if (!UUID.test(value)) throw new OAuthSetupsHttpError(404, `${what} not found.`);
  return value.toLowerCase();
}

/** Parses input with a contract schema; problems are `status` naming each field. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  status: 400 | 422,
  message: string,
): z.output<T> {
  const parsed = schema.safeParse(value ?? undefined);
  if (!parsed.success)
    throw new OAuthSetupsHttpError(
      status,
      message,
      schemaProblems(parsed.error).map((p) => ({ field: p.name, message: p.message })),
    );
  return parsed.data;
}

/**
 * Seed 002: `/api/v2/provider-deployments/{provider_deployment_id}/oauth-setups`. A deployment is a
 * provider the org registered; a setup's hosted `url` takes one user through its consent.
 */
@Controller('api/v2/provider-deployments/:deploymentId/oauth-setups')
@UseGuards(BearerAuthGuard, ScopesGuard)
export class OAuthSetupsController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get()
  @RequireScopes('setups:read')
  list(
    @Param('deploymentId') deploymentId: string,
    @Query() query: Record<string, unknown>,
    @Req() req: Authed,
  ): Promise<Page<OAuthSetup>> {
    const parsed = parseWith(listOAuthSetupsQuerySchema, query, 400, 'Invalid query parameters.');
    return this.bus.request(
      'oauth-setups.list',
      { deploymentId: pathId(deploymentId, 'Provider deployment'), query: parsed },
      { auth: req.user.token },
    );
  }

  @Get(':setupId')
  @RequireScopes('setups:read')
  get(
    @Param('deploymentId') deploymentId: string,
    @Param('setupId') setupId: string,
    @Req() req: Authed,
  ): Promise<OAuthSetup> {
    return this.bus.request(
      'oauth-setups.get',
      { deploymentId: pathId(deploymentId, 'Provider deployment'), id: pathId(setupId, 'OAuth setup') },
      { auth: req.user.token },
    );
  }

  @Post()
  @HttpCode(201)
  @RequireScopes('setups:write')
  create(
    @Param('deploymentId') deploymentId: string,
    @Body() body: unknown,
    @Req() req: Authed,
  ): Promise<OAuthSetup> {
    const id = pathId(deploymentId, 'Provider deployment');
    const parsed = parseWith(
      createOAuthSetupSchema,
      body,
      422,
      'Invalid OAuth setup.',
    ) as CreateOAuthSetupRequest;
    return this.bus.request(
      'oauth-setups.create',
      { deploymentId: id, body: parsed },
      { auth: req.user.token },
    );
  }

  @Patch(':setupId')
  @RequireScopes('setups:write')
  update(
    @Param('deploymentId') deploymentId: string,
    @Param('setupId') setupId: string,
    @Body() body: unknown,
    @Req() req: Authed,
  ): Promise<OAuthSetup> {
    const ids = {
      deploymentId: pathId(deploymentId, 'Provider deployment'),
      id: pathId(setupId, 'OAuth setup'),
    };
    const changes = parseWith(updateOAuthSetupSchema, body, 422, 'Invalid OAuth setup update.');
    return this.bus.request('oauth-setups.update', { ...ids, changes }, { auth: req.user.token });
  }
}
