import { Controller, UseGuards } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BusContext, BusException } from '@broker/bus';
import { BusReply, BusRequest, MessagePatterns } from '@broker/contracts';
import { BusAuthGuard } from '@broker/auth-kit';
import { PrincipalTokenError, PrincipalTokens, UsersService } from '@broker/identity';

const CODE_BY_STATUS = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  422: 'UNPROCESSABLE',
} as const;

/** The verified caller's own identity: userinfo, a fresh token, a delegated token. */
@Controller()
@UseGuards(BusAuthGuard)
export class PrincipalBusController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: PrincipalTokens,
  ) {}

  @MessagePattern(MessagePatterns.identity.userinfo)
  async userinfo(@Ctx() ctx: BusContext): Promise<BusReply<'identity.userinfo'>> {
    const p = ctx.getPrincipal();
    const info = await this.users.userInfo(p.orgId, p.sub);
    if (!info) throw new BusException('NOT_FOUND', 'the token’s subject no longer exists');
    return info;
  }

  @MessagePattern(MessagePatterns.identity.principalToken)
  async principalToken(@Ctx() ctx: BusContext): Promise<BusReply<'identity.principal-token'>> {
    try {
      return await this.tokens.principalToken(ctx.getPrincipal());
    } catch (err) {
      if (err instanceof PrincipalTokenError) throw new BusException(CODE_BY_STATUS[err.status], err.message);
      throw err;
    }
  }

  @MessagePattern(MessagePatterns.identity.delegatedToken)
  async delegatedToken(
    @Payload() req: BusRequest<'identity.delegated-token'>,
    @Ctx() ctx: BusContext,
  ): Promise<BusReply<'identity.delegated-token'>> {
    // The payload pipe checked the types; an empty or over-long subject names nobody.
    if (!req.sub || req.sub.length > 255)
      throw new BusException('UNPROCESSABLE', 'sub is required', [
        { name: 'sub', message: 'must be a non-empty string' },
      ]);
    try {
      return await this.tokens.delegatedToken(ctx.getPrincipal(), req);
    } catch (err) {
      if (err instanceof PrincipalTokenError) throw new BusException(CODE_BY_STATUS[err.status], err.message);
      throw err;
    }
  }
}
