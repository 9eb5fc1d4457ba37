import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { REQUIRED_SCOPES } from '@broker/identity';
import { BearerChallengeError } from '../external-oauth/external-oauth-error.filter';
import type { AuthenticatedCaller } from './authenticated-caller';

/** 403 with an `insufficient_scope` challenge when the verified token lacks a scope the route needs. */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, [context.getHandler(), context.getClass()]) ?? [];
    const caller = context.switchToHttp().getRequest<{ user?: AuthenticatedCaller }>().user;
    const missing = required.filter((s) => !caller?.principal.scopes.includes(s));
    if (missing.length) {
      throw new BearerChallengeError(
        403,
        `This token lacks the scope ${missing.join(' ')}.`,
        `Bearer realm="oauth-broker", error="insufficient_scope", scope="${required.join(' ')}"`,
      );
    }
    return true;
  }
}
