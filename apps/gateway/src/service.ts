import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TokenVerificationModule } from '@broker/identity';
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
import { HOT_TOKEN_ROUTES } from './http/hot-token-routes';
import { installRequestHygiene } from './http/request-hygiene';
import { installApiDocs } from './openapi/api-docs';
import { securityHeaders } from './http/security-headers';
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
class GatewayModule implements NestModule {
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
      ],
    };
  }

  /** The REST token routes answered ahead of Nest's route pipeline (after the access log's middleware: it is global). */
  configure(consumer: MiddlewareConsumer): void {
    for (const { middleware, route } of HOT_TOKEN_ROUTES) consumer.apply(middleware).forRoutes(route);
  }
}

/** gateway: the public HTTP surfaces; owns no tables and reaches the services over the bus. */
export const gatewayService: ServiceDefinition = {
  service: 'gateway',
  defaultPort: 3000,
  database: false,
  busServer: false,
  module: (config) => GatewayModule.forRoot(config),
  // Before any route: helmet's headers on every answer, then the request checks and body parsing.
  configureHttp: (app, config) => {
    for (const handler of securityHeaders(config.publicUrl)) app.use(handler);
    installRequestHygiene(app);
    // OpenAPI: the UI at /docs, the document at /docs-json (apps/gateway/src/openapi).
    installApiDocs(app);
  },
};
