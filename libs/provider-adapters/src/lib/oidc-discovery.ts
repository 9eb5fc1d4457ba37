import * as oauth from 'oauth4webapi';
import { checkUrlStatic, DEFAULT_EGRESS_POLICY, EgressDeniedError, EgressPolicy } from '@broker/egress';

/** What the broker needs from an OpenID provider's discovery document. */
export interface OidcDiscovery {
  issuer: string;
  authorizationUrl: string;
  tokenUrl: string;
  userinfoUrl?: string;
  revocationUrl?: string;
  deviceAuthorizationUrl?: string;
  /** `code_challenge_methods_supported` (empty when not advertised). */
  codeChallengeMethodsSupported: string[];
  /** `token_endpoint_auth_methods_supported` (the spec default `client_secret_basic` when absent). */
  tokenEndpointAuthMethodsSupported: string[];
  /** `scopes_supported`, when advertised. */
  scopesSupported?: string[];
  /** RFC 9207 `authorization_response_iss_parameter_supported` is `true`. */
  authorizationResponseIssParameterSupported?: boolean;
}

/** Discovery failed: unreachable, not a conforming document, issuer mismatch, refused endpoint. */
export class OidcDiscoveryError extends Error {
  constructor(
    message: string,
    readonly issuer: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OidcDiscoveryError';
  }
}

const OPTIONAL_ENDPOINTS = {
  userinfoUrl: 'userinfo_endpoint',
  revocationUrl: 'revocation_endpoint',
  deviceAuthorizationUrl: 'device_authorization_endpoint',
} as const;

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

function describeFailure(err: unknown): string {
  if (err instanceof EgressDeniedError) return err.message;
  if (err instanceof Error && err.name === 'TimeoutError') return 'the request timed out';
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (err instanceof TypeError && cause && typeof cause.code === 'string')
    return `${err.message} (${cause.code})`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Fetches `{issuer}/.well-known/openid-configuration` with `fetchImpl` (normally a guarded fetch)
 * through oauth4webapi, insists that the document's `issuer` equals `issuer` character for
 * character (OpenID Connect Discovery §4.3), and returns its endpoints, each checked against the
 * egress policy. Plain http is used only for a loopback issuer the policy allows.
 */
export async function discoverOidc(
  issuer: string,
  fetchImpl: typeof fetch,
  policy: EgressPolicy = DEFAULT_EGRESS_POLICY,
): Promise<OidcDiscovery> {
  let issuerUrl: URL;
  try {
    issuerUrl = checkUrlStatic(issuer, policy);
  } catch (err) {
    throw new OidcDiscoveryError(`the issuer is not allowed: ${describeFailure(err)}`, issuer, {
      cause: err,
    });
  }
  if (issuerUrl.search || issuerUrl.hash)
    throw new OidcDiscoveryError('an issuer has no query or fragment', issuer);

  let metadata: oauth.AuthorizationServer;
  try {
    const response = await oauth.discoveryRequest(issuerUrl, {
      [oauth.customFetch]: fetchImpl,
      [oauth.allowInsecureRequests]: issuerUrl.protocol === 'http:',
    });
    metadata = await oauth.processDiscoveryResponse(issuerUrl, response);
  } catch (err) {
    if (err instanceof oauth.OperationProcessingError && err.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
      const found = (err.cause as { body?: { issuer?: unknown } } | undefined)?.body?.issuer;
      throw new OidcDiscoveryError(
        `the discovery document names issuer ${JSON.stringify(found)}, not ${JSON.stringify(issuer)}`,
        issuer,
        { cause: err },
      );
    }
    throw new OidcDiscoveryError(`OpenID discovery failed: ${describeFailure(err)}`, issuer, { cause: err });
  }
  // oauth4webapi compares normalised URLs; the specification wants the identical string.
  if (metadata.issuer !== issuer) {
    throw new OidcDiscoveryError(
      `the discovery document names issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(issuer)}`,
      issuer,
    );
  }

  const endpoint = (key: string, required: boolean): string | undefined => {
    const value = (metadata as Record<string, unknown>)[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string')
      throw new OidcDiscoveryError(`the discovery document has no valid ${key}`, issuer);
    try {
      return checkUrlStatic(value, policy).href;
    } catch (err) {
      throw new OidcDiscoveryError(
        `the discovery document's ${key} is not allowed: ${describeFailure(err)}`,
        issuer,
        { cause: err },
      );
    }
  };

  const result: OidcDiscovery = {
    issuer: metadata.issuer,
    authorizationUrl: endpoint('authorization_endpoint', true) as string,
    tokenUrl: endpoint('token_endpoint', true) as string,
    codeChallengeMethodsSupported: stringList(metadata.code_challenge_methods_supported) ?? [],
    tokenEndpointAuthMethodsSupported: stringList(metadata.token_endpoint_auth_methods_supported) ?? [
      'client_secret_basic',
    ],
  };
  for (const [field, key] of Object.entries(OPTIONAL_ENDPOINTS) as [
    keyof typeof OPTIONAL_ENDPOINTS,
    string,
  ][]) {
    const url = endpoint(key, false);
    if (url) result[field] = url;
  }
  const scopes = stringList(metadata.scopes_supported);
  if (scopes) result.scopesSupported = scopes;
  if (metadata.authorization_response_iss_parameter_supported === true)
    result.authorizationResponseIssParameterSupported = true;
  return result;
}
