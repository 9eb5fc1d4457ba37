/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a client whose
 * `client_id` is an https URL is described by the JSON document served at that URL, fetched by the
 * broker when the client first shows up. An org accepts such clients only when its admin turns it on.
 */
export interface ClientMetadataDocumentSettings {
  /** Off by default: the org's users cannot sign in through a client identified by URL. */
  enabled: boolean;
  /**
   * Which client URLs the org accepts: host names (`client.example`, the URL's host exactly) or URL
   * prefixes (`https://client.example/mcp/`, ending in `/`). Empty: any URL the egress guard allows.
   */
  allowedClients: string[];
  /** The most a client identified by URL may get (further narrowed by its document's `scope` and the person's own scopes). */
  maxScopes: string[];
}

/** What the authorization endpoint shows a person about a client identified by URL: its own, unverified, words. */
export interface MetadataDocumentClientInfo {
  /** The document's `client_name` (unverified: anybody can publish any name). */
  clientName: string | null;
  /** The document's `logo_uri` (unverified). */
  logoUri: string | null;
  /** The host of the client's URL: the one thing about the client the broker did verify (it served the document). */
  host: string;
}

/** What the broker's authorization server supports right now (its metadata document says so). */
export interface AuthorizationServerFeatures {
  /** Some org accepts clients identified by URL. */
  clientIdMetadataDocuments: boolean;
}
