import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { REQUIRED_SCOPES } from '@broker/auth-kit';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { protectedResourceMetadataUrl } from '../oauth/protected-resource.controller';
import { BearerChallengeError } from '../external-oauth/external-oauth-error.filter';
import type { AuthenticatedCaller } from './authenticated-caller';

/** 403 with an `insufficient_scope` challenge when the verified token lacks a scope the route needs. */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const required =
      this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [];
    const caller = context.switchToHttp().getRequest<{ user?: AuthenticatedCaller }>().user;
    const refusal = missingScopes(required, caller, this.config.publicUrl);
    if (refusal) throw refusal;
    return true;
  }
}

/** The 403 (with its `insufficient_scope` challenge) when `caller` lacks one of `required`, else undefined. */
export function missingScopes(
  required: readonly string[],
  caller: AuthenticatedCaller | undefined,
  publicUrl: string,
): BearerChallengeError | undefined {
  const missing = required.filter((s) => !caller?.principal.scopes.includes(s));
  if (!missing.length) return undefined;
  return new BearerChallengeError(
    403,
    `This token lacks the scope ${missing.join(' ')}.`,
    // Step-up (RFC 6750 §3.1, RFC 9728 §5.1): the scopes to ask for, and where the metadata is.
    `Bearer realm="oauth-broker", error="insufficient_scope", scope="${required.join(' ')}", resource_metadata="${protectedResourceMetadataUrl(publicUrl)}"`,
  );
}
