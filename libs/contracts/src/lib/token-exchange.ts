import { z } from 'zod';
import { plainText } from './plain-text';
import type { OAuthErrorResponse } from './oauth-server';

/** RFC 8693 §2.1 grant type and §3 token type identifiers the broker speaks. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * How a target is named in `resource` (an absolute URI, RFC 8707) or `audience`: one of the org's
 * providers (the subject's single account there) or one authorization (one linked account).
 * `audience` also takes the bare id of either.
 */
export const PROVIDER_RESOURCE_PREFIX = 'urn:broker:provider:';
export const AUTHORIZATION_RESOURCE_PREFIX = 'urn:broker:authorization:';

const param = plainText(16_384, 1);
const targets = z.union([param, z.array(param).min(1).max(10)]);

/** The token request of a token exchange as the gateway passes it on (strings as the client sent them). */
export const tokenExchangeRequestSchema = z.strictObject({
  grant_type: z.literal(TOKEN_EXCHANGE_GRANT),
  client_id: param.optional(),
  client_secret: param.optional(),
  basic: z.strictObject({ clientId: plainText(16_384), clientSecret: plainText(16_384) }).optional(),
  subject_token: param.optional(),
  subject_token_type: param.optional(),
  actor_token: param.optional(),
  actor_token_type: param.optional(),
  requested_token_type: param.optional(),
  resource: targets.optional(),
  audience: targets.optional(),
  scope: param.optional(),
  /** The user's account at the provider (id or label), when a provider target and several are linked. */
  account: plainText(255, 1).optional(),
});
export type TokenExchangeRequest = z.infer<typeof tokenExchangeRequestSchema>;

/** RFC 8693 §2.2.1: the provider's access token, as the consumer's policy allows it. */
export interface TokenExchangeResponse {
  access_token: string;
  issued_token_type: typeof ACCESS_TOKEN_TYPE;
  token_type: 'Bearer';
  expires_in?: number;
  scope: string;
  /** True when the provider minted a narrower token for this request (see `attenuated` of an acquire). */
  attenuated: boolean;
  authorization_id: string;
  provider_id: string;
}

export type TokenExchangeResult =
  | { ok: true; token: TokenExchangeResponse }
  | { ok: false; error: OAuthErrorResponse };
