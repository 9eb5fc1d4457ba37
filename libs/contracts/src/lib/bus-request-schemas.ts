import { z } from 'zod';
import { BusPattern, BusRequest } from './message-patterns';
import { PROVIDER_ORDER_BY, PROVIDER_STATUSES, PROVIDER_TYPES } from './providers';

/**
 * The shape of every bus request payload, checked by the bus server before any handler runs (a
 * request that does not match is answered BAD_REQUEST and never reaches the handler). Shapes and
 * bounds only: what a value means (a URL the egress guard allows, a known provider) is the
 * domain's to judge. Total: a pattern without a schema does not compile.
 */
const id = z.string().min(1).max(256);
const text = (max: number) => z.string().max(max);
const optionalText = (max: number) => z.string().max(max).optional();
const url = z.string().max(2048);
const noPayload = z.strictObject({});

const authorizeRequest = z.strictObject({
  response_type: optionalText(8192),
  client_id: optionalText(8192),
  redirect_uri: optionalText(8192),
  scope: optionalText(8192),
  state: optionalText(8192),
  code_challenge: optionalText(8192),
  code_challenge_method: optionalText(8192),
  nonce: optionalText(8192),
  duplicated: z.array(text(64)).max(32).optional(),
});

const providerCallback = z.strictObject({ code: text(4096), providerId: id, state: text(2048), iss: optionalText(2048) });

export const BUS_REQUEST_SCHEMAS: { [P in BusPattern]: z.ZodType<BusRequest<P>> } = {
  'providers.list': z.strictObject({
    ids: z.array(id).max(100).optional(),
    types: z.array(z.enum(PROVIDER_TYPES)).max(100).optional(),
    host: z.array(text(255)).max(100).optional(),
    orderBy: z.enum(PROVIDER_ORDER_BY).optional(),
  }),
  'providers.get': z.strictObject({ id }),
  'providers.create': z.strictObject({
    clientId: text(512),
    clientSecret: text(8192),
    name: text(255),
    type: z.enum(PROVIDER_TYPES),
    scopes: z.array(text(512)).max(100).optional(),
    skipConsent: z.boolean().optional(),
    host: optionalText(255),
    baseUrl: url.optional(),
    tenant: optionalText(255),
    issuer: url.optional(),
    endpoints: z
      .strictObject({
        authorizationUrl: url.optional(),
        tokenUrl: url.optional(),
        userinfoUrl: url.optional(),
        revocationUrl: url.optional(),
        deviceAuthorizationUrl: url.optional(),
      })
      .optional(),
  }),
  'providers.update': z.strictObject({
    id,
    changes: z.strictObject({
      clientSecret: optionalText(8192),
      name: optionalText(255),
      skipConsent: z.boolean().optional(),
      status: z.enum(PROVIDER_STATUSES).optional(),
    }),
  }),
  'providers.delete': z.strictObject({ id }),
  'jobs.get': z.strictObject({ id }),
  'jobs.create': z.strictObject({ type: text(64) }),
  'providers.credentials': z.strictObject({ id }),
  'authorizations.authorize': z.strictObject({ providerId: id, state: optionalText(512), redirectUri: url.optional() }),
  'authorizations.callback': providerCallback,
  // The browser's return: any of these may be missing (the provider reported an error); the handler says which.
  'authorizations.browser-callback': z.strictObject({ code: optionalText(4096), providerId: text(256), state: optionalText(2048), iss: optionalText(2048) }),
  'authorizations.list': noPayload,
  'authorizations.delete': z.strictObject({ id }),
  'authorizations.token': z.strictObject({ id, minValiditySeconds: z.number().min(0).max(86_400).optional() }),
  'authorizations.userinfo': z.strictObject({ id }),
  'tokens.acquire': z.strictObject({
    authorizationId: id.optional(),
    userId: id.optional(),
    providerId: id.optional(),
    minValiditySeconds: z.number().min(0).max(86_400).optional(),
  }),
  'external-auth.list': noPayload,
  'external-auth.get': z.strictObject({ providerId: text(256) }),
  'external-auth.delete': z.strictObject({ providerId: text(256) }),
  'external-auth.device-start': z.strictObject({ providerId: text(256) }),
  'external-auth.device-exchange': z.strictObject({ providerId: text(256), deviceCode: text(4096) }),
  'identity.token': z.strictObject({
    grant_type: optionalText(8192),
    client_id: optionalText(8192),
    client_secret: optionalText(8192),
    code: optionalText(8192),
    code_verifier: optionalText(8192),
    redirect_uri: optionalText(8192),
    refresh_token: optionalText(8192),
    scope: optionalText(8192),
    tz: optionalText(8192),
    basic: z.strictObject({ clientId: text(8192), clientSecret: text(8192) }).optional(),
  }),
  'identity.jwks': noPayload,
  'identity.userinfo': noPayload,
  'identity.principal-token': noPayload,
  'identity.delegated-token': z.strictObject({
    sub: text(256),
    scopes: z.array(text(128)).max(64).nullable().optional(),
    team_id: optionalText(256).nullable(),
  }),
  'identity.authorize': authorizeRequest,
  'identity.authorize-complete': z.strictObject({ authorization: authorizeRequest, upstreamAccessToken: text(16_384) }),
};

/** The schema of a pattern's request payload, if the pattern is part of the contract. */
export function busRequestSchema(pattern: string): z.ZodType | undefined {
  return Object.prototype.hasOwnProperty.call(BUS_REQUEST_SCHEMAS, pattern) ? BUS_REQUEST_SCHEMAS[pattern as BusPattern] : undefined;
}
