import { Controller, Get, Header, Inject } from '@nestjs/common';
import { SCOPES } from '@broker/contracts';
import { SERVICE_CONFIG, ServiceConfig } from '@broker/service-runtime';

/** Where the broker API's RFC 9728 metadata is (its resource identifier is `<publicUrl>/api`). */
export function protectedResourceMetadataUrl(publicUrl: string): string {
  return `${publicUrl}/.well-known/oauth-protected-resource/api`;
}

/**
 * RFC 9728 protected-resource metadata of the broker's API: which authorization server issues
 * tokens for it and which scopes it knows. Served at the path the RFC derives from the resource
 * identifier (`/.well-known/oauth-protected-resource/api`) and at the bare well-known path (what
 * MCP clients try first for a host). 401 and 403 challenges point here (`resource_metadata`).
 */
@Controller()
export class ProtectedResourceController {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {}

  @Get(['.well-known/oauth-protected-resource', '.well-known/oauth-protected-resource/api'])
  @Header('Cache-Control', 'public, max-age=300')
  metadata(): Record<string, unknown> {
    const base = this.config.publicUrl;
    return {
      resource: `${base}/api`,
      authorization_servers: [base],
      scopes_supported: [...SCOPES],
      bearer_methods_supported: ['header'],
      resource_name: 'OAuth token broker API',
    };
  }
}
