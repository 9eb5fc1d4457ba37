import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { GrantType } from '@broker/contracts';

/** A client of the broker's own OAuth server: an internal service account or a first-party app. */
@Entity({ name: 'oauth_clients' })
@Index('oauth_clients_org_idx', ['orgId'])
export class OAuthClientEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ type: 'text' })
  name!: string;

  /** HMAC-SHA256 of the secret under the server pepper; the secret itself is never stored. */
  @Column({ name: 'secret_hash', type: 'text' })
  secretHash!: string;

  @Column({ name: 'grant_types', type: 'text', array: true })
  grantTypes!: GrantType[];

  @Column({ type: 'text', array: true })
  scopes!: string[];

  /** Exact redirect URIs for authorization_code (no prefix or wildcard matching). */
  @Column({ name: 'redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  redirectUris!: string[];

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /**
   * People signing in through this (code-flow) client may get `tokens:delegate` (act as any user of
   * the org). Off unless set explicitly: without it the scope is never in their tokens.
   */
  @Column({ name: 'allow_user_delegation', type: 'boolean', default: false })
  allowUserDelegation!: boolean;

  // kind, logo_uri and metadata_expires_at are written only by MetadataDocumentClients (SQL): entity
  // inserts leave them to their defaults, and keep working against a schema migrated before them.
  /**
   * `registered` (created by an operator, authenticates with its secret) or `metadata_document` (a
   * public client identified by its URL: this row is the broker's cached copy of its document).
   */
  @Column({ type: 'text', default: 'registered', insert: false, update: false })
  kind!: 'registered' | 'metadata_document';

  /** A metadata-document client's `logo_uri` (its own word, shown as unverified). */
  @Column({ name: 'logo_uri', type: 'text', nullable: true, insert: false, update: false })
  logoUri!: string | null;

  /** Until when a metadata-document client's cached document may be used without fetching it again. */
  @Column({ name: 'metadata_expires_at', type: 'timestamptz', nullable: true, insert: false, update: false })
  metadataExpiresAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
