import { z } from 'zod';
import { BusPattern, BusRequest } from './bus-contract';
import {
  createOAuthSetupSchema,
  createWebhookEndpointSchema,
  listOAuthSetupsBusQuerySchema,
  updateOAuthSetupSchema,
  updateWebhookEndpointSchema,
} from './oauth-setups.schemas';
import { PROVIDER_ORDER_BY, PROVIDER_STATUSES, PROVIDER_TYPES } from './providers';
import { LEAST_PRIVILEGE_BUS_SCHEMAS } from './token-ledger';
import { tokenRestrictionSchema } from './token-policies';

/**
 * The shape of every bus request payload, checked by the bus server before any handler runs (a
 * request that does not match is answered BAD_REQUEST and never reaches the handler). Shapes and
 * bounds only: what a value means (a URL the egress guard allows, a known provider) is the
 * domain's to judge. Total: a pattern without a schema does not compile.
 */
// PostgreSQL cannot store NUL and no field of ours holds one: a NUL is refused here, once, for every pattern.
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !v.includes('\u0000'), { message: 'must not contain NUL' });
const id = text(256).min(1);
const optionalText = (max: number) => text(max).optional();
const url = text(2048);
const noPayload = z.strictObject({});
const adminAction = z.enum(['disable', 'enable', 'delete']);

const authorizeRequest = z.strictObject({
  response_type: optionalText(8192),
  client_id: optionalText(8192),
  redirect_uri: optionalText(8192),
  scope: optionalText(8192),
  state: optionalText(8192),
  code_challenge: optionalText(8192),
  code_challenge_method: optionalText(8192),
  nonce: optionalText(8192),
  resource: optionalText(8192),
  duplicated: z.array(text(64)).max(32).optional(),
});

const providerCallback = z.strictObject({
  code: text(4096),
  providerId: id,
  state: text(2048),
  iss: optionalText(2048),
});

/** Client authentication as the gateway passes it on (form fields, or a decoded `Authorization: Basic`). */
const clientAuth = {
  client_id: optionalText(8192),
  client_secret: optionalText(8192),
  basic: z.strictObject({ clientId: text(8192), clientSecret: text(8192) }).optional(),
};
/** RFC 7009 / RFC 7662 requests: the token and its hint, with the client's authentication. */
const tokenStatusRequest = z.strictObject({
  token: optionalText(16_384),
  token_type_hint: optionalText(64),
  ...clientAuth,
});

/** How a hosted setup's consent ended, as the token-broker reports it. */
const setupOutcome = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('completed'), authorizationId: z.uuid() }),
  z.strictObject({ outcome: z.literal('failed'), error: z.string().min(1).max(200) }),
]);

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
    appSlug: optionalText(255),
    appInstallUrl: url.optional(),
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
      appSlug: text(255).nullable().optional(),
      appInstallUrl: url.nullable().optional(),
    }),
  }),
  'providers.delete': z.strictObject({ id }),
  'jobs.get': z.strictObject({ id }),
  'jobs.create': z.strictObject({ type: text(64) }),
  'providers.credentials': z.strictObject({ id }),
  'authorizations.authorize': z.strictObject({
    providerId: id,
    state: optionalText(512),
    redirectUri: url.optional(),
  }),
  'authorizations.callback': providerCallback,
  // The browser's return: any of these may be missing (the provider reported an error); the handler says which.
  'authorizations.browser-callback': z.strictObject({
    code: optionalText(4096),
    providerId: text(256),
    state: optionalText(2048),
    iss: optionalText(2048),
    browserBinding: optionalText(128),
    error: optionalText(256),
  }),
  'authorizations.list': noPayload,
  'authorizations.delete': z.strictObject({ id }),
  'authorizations.token': z.strictObject({
    id,
    minValiditySeconds: z.number().min(0).max(86_400).optional(),
  }),
  'authorizations.userinfo': z.strictObject({ id }),
  'tokens.acquire': z.strictObject({
    authorizationId: id.optional(),
    userId: id.optional(),
    providerId: id.optional(),
    account: optionalText(255),
    minValiditySeconds: z.number().min(0).max(86_400).optional(),
    restriction: tokenRestrictionSchema.optional(),
    channel: z.literal('rest').optional(),
  }),
  'external-auth.list': noPayload,
  'external-auth.get': z.strictObject({ providerId: text(256) }),
  'external-auth.delete': z.strictObject({ providerId: text(256) }),
  'external-auth.device-start': z.strictObject({ providerId: text(256) }),
  'external-auth.device-exchange': z.strictObject({ providerId: text(256), deviceCode: text(4096) }),
  'identity.token': z.strictObject({
    grant_type: optionalText(8192),
    ...clientAuth,
    code: optionalText(8192),
    code_verifier: optionalText(8192),
    redirect_uri: optionalText(8192),
    refresh_token: optionalText(8192),
    scope: optionalText(8192),
    tz: optionalText(8192),
    resource: optionalText(8192),
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
  'identity.authorize-complete': z.strictObject({
    authorization: authorizeRequest,
    upstreamAccessToken: text(16_384),
  }),
  'identity.revocations': z.strictObject({ version: optionalText(128) }),
  'identity.revoke': tokenStatusRequest,
  'identity.introspect': tokenStatusRequest,
  'identity.admin-client': z.strictObject({ clientId: id, action: adminAction }),
  'identity.admin-user': z.strictObject({ sub: id, action: adminAction }),
  // Exactly one of them: the handler says which is missing or extra.
  'identity.admin-revoke': z.strictObject({
    client_id: optionalText(256),
    sub: optionalText(256),
    token: optionalText(16_384),
  }),
  // Over-long states and links are unknown ones: the handlers answer NOT_FOUND for them.
  'authorizations.consent-page': z.strictObject({ state: text(8192) }),
  'authorizations.consent-bind': z.strictObject({ state: text(8192), bindingHash: text(128) }),
  'authorizations.setup-consent': z.strictObject({ linkToken: text(8192) }),
  'oauth-setups.list': z.strictObject({ deploymentId: id, query: listOAuthSetupsBusQuerySchema }),
  'oauth-setups.get': z.strictObject({ deploymentId: id, id }),
  'oauth-setups.create': z.strictObject({ deploymentId: id, body: createOAuthSetupSchema }),
  'oauth-setups.update': z.strictObject({ deploymentId: id, id, changes: updateOAuthSetupSchema }),
  'oauth-setups.open': z.strictObject({ linkToken: text(8192) }),
  'oauth-setups.finish': z.strictObject({ setupId: id, result: setupOutcome }),
  'webhooks.list': noPayload,
  'webhooks.get': z.strictObject({ id }),
  'webhooks.create': createWebhookEndpointSchema,
  'webhooks.update': z.strictObject({ id, changes: updateWebhookEndpointSchema }),
  'webhooks.delete': z.strictObject({ id }),
  'webhooks.rotate-secret': z.strictObject({ id }),
  'webhooks.deliveries': z.strictObject({
    id,
    limit: z.number().int().min(1).max(100).optional(),
    after: optionalText(256),
  }),
  // Consumer policies, the provenance ledger, token exchange and blast-radius jobs (issue 19).
  ...LEAST_PRIVILEGE_BUS_SCHEMAS,
  // Client ID metadata documents (issue 19 point 7); the handler checks the hosts, prefixes and scopes.
  'identity.client-metadata-settings.get': noPayload,
  'identity.client-metadata-settings.set': z.strictObject({
    enabled: z.boolean(),
    allowedClients: z.array(text(512)).max(50),
    maxScopes: z.array(text(128)).max(64),
  }),
  'identity.server-features': noPayload,
};

/** The schema of a pattern's request payload, if the pattern is part of the contract. */
export function busRequestSchema(pattern: string): z.ZodType | undefined {
  return Object.prototype.hasOwnProperty.call(BUS_REQUEST_SCHEMAS, pattern)
    ? BUS_REQUEST_SCHEMAS[pattern as BusPattern]
    : undefined;
}
