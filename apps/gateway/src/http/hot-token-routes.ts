import { Inject, Injectable, RequestMethod, Type } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { CacheKey } from '@broker/broker-client';
import { BusClientProxy } from '@broker/bus';
import { REQUIRED_SCOPES } from '@broker/auth-kit';
import { SERVICE_CONFIG, ServiceConfig, labelHttpRoute } from '@broker/service-runtime';
import type { AuthenticatedCaller } from '../auth/authenticated-caller';
import { bearerRequired, plainBearerToken } from '../auth/bearer-auth.guard';
import { BearerStrategy } from '../auth/bearer.strategy';
import { missingScopes } from '../auth/scopes.guard';
import {
  AuthorizedProvidersController,
  authorizationToken,
} from '../external-oauth/authorized-providers.controller';
import { TokensController, acquireToken, parseAcquire } from '../external-oauth/tokens.controller';
import { parseId } from '../external-oauth/provider-bodies';
import { type CachedServe, ServedTokenCache, callerScope, servedFromReply } from './served-token-cache';

/** One controller route answered here: where it is, and its work once the caller is authenticated. */
interface HotRoute {
  controller: Type;
  handler: string;
  run: (bus: BusClientProxy, req: FastifyRequest, caller: AuthenticatedCaller) => Promise<unknown>;
  /** The same work through the gateway's token cache, for a request it may answer (else undefined). */
  cached?: (
    bus: BusClientProxy,
    req: FastifyRequest,
    caller: AuthenticatedCaller,
  ) => { key: CacheKey; minValiditySeconds?: number; fetch: () => Promise<CachedServe> } | undefined;
}

/**
 * The REST token routes, the ones services call on every use of a provider token, answered from a
 * Fastify `preHandler` of the controller route itself. Everything the gateway does before the
 * handler still runs for them (security headers, the URL and body checks, body parsing, the access
 * log); what this skips is Nest's per-request route machinery — the guard
 * chain through passport, the parameter decorators, the interceptor and response pipeline — which
 * was the largest share of the gateway's CPU per token request. The checks are the same code:
 * the bearer token is read as passport-http-bearer reads it and verified by the same strategy
 * (signature, audience, revocation list), the scopes come from the route's own `@RequireScopes`,
 * the status from its `@HttpCode`, the work is the controller's own function, and every error is
 * thrown to Nest's exception layer, so the surface's filter words it exactly as on the route.
 * A request that is not the plain case (no `Authorization: Bearer` header, a token also in the
 * body or query) goes on to the controller route and its guards unchanged.
 */
export abstract class HotTokenRoute {
  private readonly scopes: readonly string[];
  private readonly status: number;
  private readonly handler: () => unknown;

  constructor(
    private readonly route: HotRoute,
    private readonly bus: BusClientProxy,
    private readonly bearer: BearerStrategy,
    private readonly config: ServiceConfig,
    reflector: Reflector,
    private readonly cache: ServedTokenCache,
  ) {
    const handler = (route.controller.prototype as Record<string, () => unknown>)[route.handler];
    this.handler = handler;
    if (typeof handler !== 'function')
      throw new Error(`hot token route: ${route.controller.name}.${route.handler} is not a route`);
    this.scopes =
      reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, [handler, route.controller]) ?? [];
    const status = reflector.get<number | undefined>(HTTP_CODE_METADATA, handler);
    if (status === undefined)
      throw new Error(`hot token route: ${route.controller.name}.${route.handler} has no @HttpCode`);
    this.status = status;
  }

  /** Answers the request and says so (true), or leaves it to the controller route (false). */
  async answer(req: FastifyRequest, res: FastifyReply): Promise<boolean> {
    const token = plainBearerToken(req);
    if (token === undefined) return false;
    // Counted under the controller route's template, as the route itself would be (/metrics).
    labelHttpRoute(req.raw, this.route.controller, this.handler);
    // What the bearer guard does: passport calls the strategy's validate, false → 401 challenge.
    const caller = await this.bearer.validate(token);
    if (!caller) throw bearerRequired(this.config.publicUrl);
    (req as FastifyRequest & { user?: AuthenticatedCaller }).user = caller;
    const refusal = missingScopes(this.scopes, caller, this.config.publicUrl);
    if (refusal) throw refusal;
    // Cached only after the same bearer and scope checks as every request (above).
    const cached = this.cache.enabled ? this.route.cached?.(this.bus, req, caller) : undefined;
    const body = cached
      ? await this.cache.serve(cached.key, cached.minValiditySeconds, cached.fetch)
      : await this.route.run(this.bus, req, caller);
    await res.status(this.status).send(body);
    return true;
  }
}

/** `POST /api/v2/externalOAuth/tokens/`. */
@Injectable()
export class HotAcquireRoute extends HotTokenRoute {
  constructor(
    bus: BusClientProxy,
    bearer: BearerStrategy,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
    reflector: Reflector,
    cache: ServedTokenCache,
  ) {
    super(
      {
        controller: TokensController,
        handler: 'acquire',
        run: (b, req, caller) => acquireToken(b, req.body, caller),
        cached: (b, req, caller) => {
          const request = parseAcquire(req.body);
          // A restricted answer reports what is unmet at the time it was made: never reused.
          if (request.restriction !== undefined) return undefined;
          const scope = callerScope(caller.principal, [request.account]);
          const key: CacheKey = request.authorizationId
            ? { kind: 'id', authorizationId: request.authorizationId, scope }
            : {
                kind: 'alias',
                userId: String(request.userId),
                providerId: String(request.providerId),
                scope,
              };
          return {
            key,
            minValiditySeconds: request.minValiditySeconds,
            fetch: async () => {
              const reply = await b.request(
                'tokens.acquire',
                { ...request, channel: 'rest' },
                { auth: caller.token, timeoutMs: 12_000 },
              );
              return servedFromReply(reply, {
                authorizationId: reply.authorizationId,
                providerId: reply.providerId,
              });
            },
          };
        },
      },
      bus,
      bearer,
      config,
      reflector,
      cache,
    );
  }
}

/** `POST /api/v2/externalOAuth/authorizedProviders/{id}/token/`. */
@Injectable()
export class HotAuthorizationTokenRoute extends HotTokenRoute {
  constructor(
    bus: BusClientProxy,
    bearer: BearerStrategy,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
    reflector: Reflector,
    cache: ServedTokenCache,
  ) {
    super(
      {
        controller: AuthorizedProvidersController,
        handler: 'token',
        run: (b, req, caller) =>
          authorizationToken(
            b,
            String((req.params as Record<string, unknown>)['authorizedProviderId']),
            caller,
          ),
        cached: (b, req, caller) => {
          const id = parseId(
            String((req.params as Record<string, unknown>)['authorizedProviderId']),
            'authorizedProviderId',
          );
          return {
            key: { kind: 'id', authorizationId: id, scope: callerScope(caller.principal) },
            fetch: async () => {
              const reply = await b.request(
                'authorizations.token',
                { id },
                { auth: caller.token, timeoutMs: 12_000 },
              );
              return servedFromReply(reply, {
                authorizationId: id,
                providerId: reply.authorizedOauthProvider.provider.id,
              });
            },
          };
        },
      },
      bus,
      bearer,
      config,
      reflector,
      cache,
    );
  }
}

/** The route (method and path) of a controller's handler, as Nest mounts it. */
export function routeOf(controller: Type, handler: string): { path: string; method: RequestMethod } {
  const fn = (controller.prototype as Record<string, () => unknown>)[handler] as () => unknown;
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
  const sub = String(Reflect.getMetadata(PATH_METADATA, fn) ?? '');
  const path = [base, sub]
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p && p !== '/')
    .join('/');
  return { path, method: Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod };
}

/** The hot routes with the controller routes they answer (see installHotTokenRoutes). */
export const HOT_TOKEN_ROUTES: readonly {
  hot: Type<HotTokenRoute>;
  route: { path: string; method: RequestMethod };
}[] = [
  { hot: HotAcquireRoute, route: routeOf(TokensController, 'acquire') },
  { hot: HotAuthorizationTokenRoute, route: routeOf(AuthorizedProvidersController, 'token') },
];

/**
 * Puts each hot route in front of its controller route, as a `preHandler` of that route only
 * (added as Nest registers the route: no other request pays for it). The hot route's instance
 * comes from the app's container when the route is registered.
 */
export function installHotTokenRoutes(fastify: FastifyInstance, resolve: <T>(type: Type<T>) => T): void {
  fastify.addHook('onRoute', (options) => {
    const url = options.url.replace(/^\/+|\/+$/g, '');
    const methods = ([] as string[]).concat(options.method);
    const entry = HOT_TOKEN_ROUTES.find(
      ({ route }) => route.path === url && methods.includes(RequestMethod[route.method]),
    );
    if (!entry) return;
    const hot = resolve(entry.hot);
    const answer: preHandlerAsyncHookHandler = async (request, reply) => {
      if (await hot.answer(request, reply)) return reply;
      return undefined;
    };
    const existing = (options.preHandler ?? []) as preHandlerAsyncHookHandler | preHandlerAsyncHookHandler[];
    options.preHandler = [...([] as preHandlerAsyncHookHandler[]).concat(existing), answer];
  });
}
