import { Body, Controller, Get, HttpCode, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BusClientProxy } from '@broker/bus';
import { DelegatedTokenRequest, SCOPES, UserInfoResponse } from '@broker/contracts';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { OAuthErrorFilter, OAuthValidationError } from './oauth-error.filter';
import { PrincipalAuthGuard } from './principal-auth.guard';
import { SeedTokenResponse, toSeedTokenResponse } from './token-response';

/** Seed 003: userinfo, principal-token and delegated-token, for the verified caller. */
@Controller('api/v1/oauth')
@UseGuards(PrincipalAuthGuard)
@UseFilters(OAuthErrorFilter)
export class PrincipalController {
  constructor(private readonly bus: BusClientProxy) {}

  @Get('userinfo')
  userinfo(@Req() req: { user: AuthenticatedCaller }): Promise<UserInfoResponse> {
    return this.bus.request('identity.userinfo', {}, { auth: req.user.token });
  }

  @Get('principal-token')
  async principalToken(
    @Req() req: { user: AuthenticatedCaller },
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<SeedTokenResponse> {
    res.header('Cache-Control', 'no-store');
    return toSeedTokenResponse(
      await this.bus.request('identity.principal-token', {}, { auth: req.user.token }),
    );
  }

  @Post('delegated-token')
  @HttpCode(200)
  async delegatedToken(
    @Body() body: unknown,
    @Req() req: { user: AuthenticatedCaller },
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<SeedTokenResponse> {
    res.header('Cache-Control', 'no-store');
    return toSeedTokenResponse(
      await this.bus.request('identity.delegated-token', parseDelegatedTokenRequest(body), {
        auth: req.user.token,
      }),
    );
  }
}

/** Validates a DelegatedTokenRequest body; 422 in the seed's shape naming each bad field. */
export function parseDelegatedTokenRequest(body: unknown): DelegatedTokenRequest {
  const raw = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const detail: { loc: (string | number)[]; msg: string; type: string }[] = [];
  if (raw['sub'] === undefined) detail.push({ loc: ['body', 'sub'], msg: 'Field required', type: 'missing' });
  else if (typeof raw['sub'] !== 'string' || raw['sub'] === '')
    detail.push({ loc: ['body', 'sub'], msg: 'Input should be a valid string', type: 'string_type' });
  const scopes = raw['scopes'];
  if (scopes != null) {
    if (!Array.isArray(scopes))
      detail.push({ loc: ['body', 'scopes'], msg: 'Input should be a valid list', type: 'list_type' });
    else
      scopes.forEach((s, i) => {
        if (!(SCOPES as readonly unknown[]).includes(s))
          detail.push({
            loc: ['body', 'scopes', i],
            msg: `Input should be one of ${SCOPES.join(', ')}`,
            type: 'enum',
          });
      });
  }
  const team = raw['team_id'];
  if (team != null && typeof team !== 'string')
    detail.push({ loc: ['body', 'team_id'], msg: 'Input should be a valid string', type: 'string_type' });
  if (detail.length) throw new OAuthValidationError(detail);
  return {
    sub: raw['sub'] as string,
    scopes: (scopes as string[] | null | undefined) ?? null,
    team_id: (team as string | null | undefined) ?? null,
  };
}
