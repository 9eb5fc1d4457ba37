import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TokenVerificationModule } from '@broker/auth-kit';
import { ServiceConfig, ServiceDefinition, ServiceRuntimeModule } from '@broker/service-runtime';
import { BearerStrategy } from './auth/bearer.strategy';
import { ExternalAuthController } from './external-auth/external-auth.controller';
import { ExternalAuthGuard } from './external-auth/external-auth.guard';
import {
  AuthorizedProvidersController,
  ConsentController,
} from './external-oauth/authorized-providers.controller';
import { JobsController } from './external-oauth/jobs.controller';
import { ProvidersController } from './external-oauth/providers.controller';
import { TokensController } from './external-oauth/tokens.controller';
import fastifyCookie from '@fastify/cookie';
import { installBodyParsers } from './http/body-parsers';
import { HOT_TOKEN_ROUTES, installHotTokenRoutes } from './http/hot-token-routes';
import { LedgerHitsReporter } from './http/ledger-hits-reporter';
import { ServedTokenCache } from './http/served-token-cache';
import { installRequestHygiene } from './http/request-hygiene';
import { installApiDocs } from './openapi/api-docs';
import { installQueueBoard } from './queue-board/queue-board';
import { installSecurityHeaders, securityHeadersOn } from './http/security-headers';
import { pathOf } from './http/request-hygiene';
import { refuse, surfaceOf } from './http/surfaces';
import { AdminController } from './oauth/admin.controller';
import { LeastPrivilegeController } from './oauth/least-privilege.controller';
import { ProtectedResourceController } from './oauth/protected-resource.controller';
import { AuthorizeController } from './oauth/authorize.controller';
import { ConnectPagesController } from './pages/connect-pages.controller';
import { OAuthSetupsController } from './oauth-setups/oauth-setups.controller';
import { WebhooksController } from './oauth-setups/webhooks.controller';
import { SetupPagesController } from './pages/setup-pages.controller';
import { OAuthController } from './oauth/oauth.controller';
import { UpstreamLoginService } from './oauth/upstream-login';
import { PrincipalAuthGuard } from './oauth/principal-auth.guard';
import { PrincipalController } from './oauth/principal.controller';
import { TokenRateLimiter } from './oauth/token-rate-limiter';
import { SurfaceErrorFilter } from './surface-error.filter';

@Module({})
class GatewayModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ServiceRuntimeModule.forRoot(config, { busClient: true, busAutoPipelining: true }),
        TokenVerificationModule,
      ],
      controllers: [
        ConsentController,
        ProvidersController,
        JobsController,
        AuthorizedProvidersController,
        TokensController,
        ExternalAuthController,
        OAuthSetupsController,
        WebhooksController,
        ConnectPagesController,
        SetupPagesController,
        OAuthController,
        AuthorizeController,
        PrincipalController,
        AdminController,
        LeastPrivilegeController,
        ProtectedResourceController,
      ],
      providers: [
        { provide: APP_FILTER, useClass: SurfaceErrorFilter },
        BearerStrategy,
        TokenRateLimiter,
        PrincipalAuthGuard,
        ExternalAuthGuard,
        UpstreamLoginService,
        LedgerHitsReporter,
        ServedTokenCache,
        ...HOT_TOKEN_ROUTES.map((r) => r.hot),
      ],
    };
  }
}

/** gateway: the public HTTP surfaces; owns no tables and reaches the services over the bus. */
export const gatewayService: ServiceDefinition = {
  service: 'gateway',
  defaultPort: 3000,
  database: false,
  busServer: false,
  module: (config) => GatewayModule.forRoot(config),
  // Fastify (docs/gateway-http.md): the REST token path is the broker's hottest HTTP path.
  http: 'fastify',
  // A path Fastify's router cannot decode never reaches a hook: refused here as the URL check would.
  frameworkErrors: (config) => {
    const headers = securityHeadersOn(config.publicUrl);
    return (_error, request, reply) => {
      headers(request, reply);
      refuse(
        reply,
        surfaceOf(request.method, pathOf(request.url)),
        400,
        'The path is not valid percent-encoding.',
        'path',
      );
    };
  },
  // Before any route: helmet's headers on every answer, then the request checks and body parsing.
  configureHttp: async (app, config) => {
    const fastify = app.getHttpAdapter().getInstance();
    installSecurityHeaders(fastify, config.publicUrl);
    installRequestHygiene(fastify);
    installBodyParsers(fastify);
    // Set-Cookie for the consent cookies (read back from the raw header: pages/consent-cookie.ts).
    await app.register(fastifyCookie, { hook: false });
    installHotTokenRoutes(fastify, (type) => app.get(type));
    // The queue dashboard at /admin/queues when QUEUE_DASHBOARD is set (docs/queue-dashboard.md); its
    // plain Fastify routes stay out of the OpenAPI document. Before the docs: both bring @fastify/static.
    await installQueueBoard(app, config);
    // OpenAPI: the UI at /docs, the document at /docs-json (apps/gateway/src/openapi).
    installApiDocs(app);
  },
};
