import {
  ACCESS_TOKEN_TYPE,
  AUTHORIZATION_RESOURCE_PREFIX,
  OAuthErrorResponse,
  PROVIDER_RESOURCE_PREFIX,
  TokenExchangeRequest,
  TokenExchangeResponse,
  principalFromClaims,
} from '@broker/contracts';
import { AccessTokenVerifier, InvalidAccessTokenError } from '@broker/auth-kit';
import { ClientsService, OAuthError, clientCredentials } from '@broker/identity';
import { ConsumerTokens, TokenTarget, TokensError } from '@broker/tokens';
import { consumerOf } from './consumer';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An RFC 8693 §2.2.2 error (RFC 6749 §5.2 shape), with its HTTP status. */
export class ExchangeError extends Error {
  constructor(
    readonly error:
      | 'invalid_request'
      | 'invalid_client'
      | 'invalid_target'
      | 'invalid_scope'
      | 'unauthorized_client'
      | 'temporarily_unavailable',
    readonly description: string,
    readonly status = error === 'invalid_client' ? 401 : error === 'temporarily_unavailable' ? 503 : 400,
  ) {
    super(description);
  }

  toResponse(): OAuthErrorResponse {
    return { error: this.error, error_description: this.description, status: this.status };
  }
}

/** Which provider or authorization the exchange is for: one target only, named in `resource` or `audience`. */
export function exchangeTarget(
  req: TokenExchangeRequest,
): { providerId: string } | { authorizationId: string } | { either: string } {
  const named = [req.resource, req.audience].flatMap((v) =>
    v === undefined ? [] : Array.isArray(v) ? v : [v],
  );
  if (named.length === 0)
    throw new ExchangeError('invalid_target', 'name the provider (or authorization) in resource or audience');
  if (new Set(named).size > 1)
    throw new ExchangeError(
      'invalid_target',
      'one provider token per exchange: name a single resource or audience',
    );
  const value = named[0];
  const after = (prefix: string) => (value.startsWith(prefix) ? value.slice(prefix.length) : undefined);
  const provider = after(PROVIDER_RESOURCE_PREFIX);
  if (provider !== undefined && UUID.test(provider)) return { providerId: provider.toLowerCase() };
  const authorization = after(AUTHORIZATION_RESOURCE_PREFIX);
  if (authorization !== undefined && UUID.test(authorization))
    return { authorizationId: authorization.toLowerCase() };
  // A bare id is only a logical name, so only as `audience` (RFC 8707 resources are absolute URIs).
  if (req.audience !== undefined && UUID.test(value)) return { either: value.toLowerCase() };
  throw new ExchangeError(
    'invalid_target',
    `unknown target '${value.slice(0, 100)}': use ${PROVIDER_RESOURCE_PREFIX}<provider id> or ${AUTHORIZATION_RESOURCE_PREFIX}<authorization id> (or the bare id as audience)`,
  );
}

/**
 * RFC 8693 token exchange: an authenticated client presents a user's broker access token and gets
 * that user's provider token, within the client's own consumer policy (the subject is the user the
 * client acts for, so `self` grants apply). The client becomes the `act` of the serve in the ledger.
 */
export class TokenExchange {
  constructor(
    private readonly clients: ClientsService,
    private readonly verifier: AccessTokenVerifier,
    private readonly consumers: ConsumerTokens,
  ) {}

  async exchange(req: TokenExchangeRequest): Promise<TokenExchangeResponse> {
    let credentials: { clientId: string; clientSecret: string };
    try {
      credentials = clientCredentials(req);
    } catch (err) {
      if (err instanceof OAuthError)
        throw new ExchangeError(
          err.error === 'invalid_client' ? 'invalid_client' : 'invalid_request',
          err.description,
        );
      throw err;
    }
    let client: Awaited<ReturnType<ClientsService['authenticate']>>;
    try {
      client = await this.clients.authenticate(credentials.clientId, credentials.clientSecret);
    } catch (err) {
      if (err instanceof OAuthError) throw new ExchangeError('invalid_client', err.description);
      throw err;
    }
    if (!req.subject_token) throw new ExchangeError('invalid_request', 'subject_token is required');
    if (req.subject_token_type !== ACCESS_TOKEN_TYPE)
      throw new ExchangeError(
        'invalid_request',
        `subject_token_type must be ${ACCESS_TOKEN_TYPE} (a broker access token of the user)`,
      );
    if (req.requested_token_type !== undefined && req.requested_token_type !== ACCESS_TOKEN_TYPE)
      throw new ExchangeError(
        'invalid_request',
        `requested_token_type: only ${ACCESS_TOKEN_TYPE} can be issued`,
      );
    if (req.actor_token !== undefined || req.actor_token_type !== undefined)
      throw new ExchangeError(
        'invalid_request',
        'actor_token is not supported: the authenticated client is the actor',
      );
    const target = exchangeTarget(req);
    const subject = await this.subject(req.subject_token, client.orgId);
    const scopes = req.scope?.trim() ? [...new Set(req.scope.trim().split(/\s+/))] : undefined;
    const consumer = {
      ...consumerOf({ sub: subject.sub, orgId: client.orgId, clientId: client.id, scopes: [] }, 'exchange'),
      actingFor: subject.sub,
      // RFC 8693 §4.1: the exchanging client acts for the subject (and for whoever acted before it).
      actor: {
        sub: client.id,
        client_id: client.id,
        ...(subject.act ? { act: { sub: subject.act.sub, client_id: subject.act.client_id } } : {}),
      },
    };
    const serve = (t: TokenTarget) =>
      this.consumers.serve(consumer, t, {
        ownedBy: subject.sub,
        ...(scopes ? { restriction: { scopes } } : {}),
      });
    try {
      const served =
        'either' in target
          ? await serve({ userId: subject.sub, providerId: target.either }).catch((err: unknown) => {
              if (err instanceof TokensError && err.code === 'NOT_FOUND')
                return serve({ authorizationId: target.either });
              throw err;
            })
          : 'providerId' in target
            ? await serve({
                userId: subject.sub,
                providerId: target.providerId,
                ...(req.account ? { account: req.account } : {}),
              })
            : await serve({ authorizationId: target.authorizationId });
      return {
        access_token: served.accessToken,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        ...(served.expiresAt
          ? { expires_in: Math.max(0, Math.floor((served.expiresAt.getTime() - Date.now()) / 1000)) }
          : {}),
        scope: served.scopes.join(' '),
        attenuated: served.attenuated,
        authorization_id: served.authorizationId,
        provider_id: served.providerId,
      };
    } catch (err) {
      throw exchangeErrorOf(err);
    }
  }

  /** The user the subject token stands for: a valid, unrevoked broker token of a person of the client's org. */
  private async subject(token: string, orgId: string) {
    let principal;
    try {
      // A token bound to a resource server (RFC 8707, an MCP server's) is what such a server exchanges.
      principal = principalFromClaims(await this.verifier.verify(token, this.verifier.audiences));
    } catch (err) {
      if (err instanceof InvalidAccessTokenError)
        throw new ExchangeError('invalid_request', `subject_token refused: ${err.message}`);
      throw err;
    }
    // Another org's token reads as an invalid one: the caller learns nothing about other orgs.
    if (principal.orgId !== orgId)
      throw new ExchangeError('invalid_request', 'subject_token refused: not a token of this org');
    if (principal.sub === principal.clientId && !principal.act)
      throw new ExchangeError(
        'invalid_request',
        'subject_token must stand for a user, not a service account',
      );
    return principal;
  }
}

/** A refusal of the token path as RFC 8693 names it; the message (naming the policy rule) is kept. */
function exchangeErrorOf(err: unknown): unknown {
  if (!(err instanceof TokensError)) return err;
  const rule = err.fields?.find((f) => f.name.startsWith('policy.'))?.name;
  switch (err.code) {
    case 'FORBIDDEN':
      if (rule === 'policy.grant') return new ExchangeError('unauthorized_client', err.message);
      if (rule === 'policy.scopes') return new ExchangeError('invalid_scope', err.message);
      return new ExchangeError('invalid_target', err.message);
    case 'NOT_FOUND':
      return new ExchangeError(
        'invalid_target',
        'the subject has no such authorization (or the provider does not exist)',
      );
    case 'UNAVAILABLE':
      return new ExchangeError('temporarily_unavailable', err.message);
    case 'CONFLICT':
      return new ExchangeError(
        'invalid_target',
        `${err.message} ${(err.fields ?? []).map((f) => f.message).join('; ')}`.trim(),
      );
    default:
      return new ExchangeError('invalid_target', err.message);
  }
}
