import { Inject, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';
import { protectedResourceMetadataUrl } from '../oauth/protected-resource.controller';
import { BearerChallengeError } from '../external-oauth/external-oauth-error.filter';
import type { AuthenticatedCaller } from './authenticated-caller';

/** Requires a valid bearer token; 401 with a `WWW-Authenticate: Bearer` challenge otherwise. */
@Injectable()
export class BearerAuthGuard extends AuthGuard('bearer') {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {
    super();
  }

  override handleRequest<T = AuthenticatedCaller>(err: unknown, user: T | false): T {
    if (err) throw err;
    if (!user) {
      throw new BearerChallengeError(401, 'A valid bearer token is required.', `Bearer realm="oauth-broker", error="invalid_token", resource_metadata="${protectedResourceMetadataUrl(this.config.publicUrl)}"`);
    }
    return user;
  }
}
