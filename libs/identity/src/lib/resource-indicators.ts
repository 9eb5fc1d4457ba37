import { OAuthError } from './oauth-error';

/**
 * RFC 8707 resource indicators: which resource an access token is for, as its audience (`aud`).
 * Without `resource` a token is for the broker's own API (`<publicUrl>/api`, as before); with it,
 * the resource must be the broker's API or one of the configured resource servers (MCP servers...),
 * compared exactly, and the token is bound to it: the broker's API refuses a token bound to another
 * resource, and that resource can check that a token was issued for it.
 */
export class ResourceIndicators {
  private readonly known: ReadonlySet<string>;

  constructor(
    /** The broker API's own identifier (the default audience). */
    readonly brokerApi: string,
    readonly servers: readonly string[] = [],
  ) {
    this.known = new Set([brokerApi, ...servers]);
  }

  /** Every audience a broker token may carry. */
  get audiences(): string[] {
    return [...this.known];
  }

  /** The audience for a requested `resource` (none: the broker's API); `invalid_target` for any other. */
  audienceFor(resource: string | undefined): string {
    if (resource === undefined || resource === '') return this.brokerApi;
    if (!this.known.has(resource)) {
      throw new OAuthError(
        'invalid_target',
        `resource '${resource.slice(0, 200)}' is not a resource this server issues tokens for`,
      );
    }
    return resource;
  }
}
