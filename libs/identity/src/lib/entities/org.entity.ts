import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant (the seed's `team_id`); everything a customer owns hangs off one. */
@Entity({ name: 'orgs' })
export class OrgEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** A disabled org's clients cannot authenticate, and the tokens they held or issued were revoked. */
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /**
   * Who may become a user of the org by signing in upstream: `invited` (default) admits only users
   * created beforehand; `domains` also admits anyone with a (verified) e-mail address in
   * `allowedEmailDomains`, with `defaultUserScopes`.
   */
  @Column({ name: 'sign_in_mode', type: 'text', default: 'invited' })
  signInMode!: 'invited' | 'domains';

  @Column({ name: 'allowed_email_domains', type: 'text', array: true, default: () => "'{}'" })
  allowedEmailDomains!: string[];

  /** Matching by e-mail address (an invitation, a domain) needs the provider to say it is verified. */
  @Column({ name: 'require_verified_email', type: 'boolean', default: true })
  requireVerifiedEmail!: boolean;

  @Column({ name: 'default_user_scopes', type: 'text', array: true, default: () => "'{}'" })
  defaultUserScopes!: string[];

  // The three client-metadata columns are written only by ClientMetadataSettings (SQL), never by an
  // entity insert, so code that creates orgs also works against a schema migrated before them.
  /** Clients identified by URL (client ID metadata documents) may be used to sign in to this org. Off by default. */
  @Column({
    name: 'client_metadata_documents',
    type: 'boolean',
    default: false,
    insert: false,
    update: false,
  })
  clientMetadataDocuments!: boolean;

  /** Which client URLs: host names or URL prefixes ending in `/`; empty: any the egress guard allows. */
  @Column({
    name: 'client_metadata_allowed',
    type: 'text',
    array: true,
    default: () => "'{}'",
    insert: false,
    update: false,
  })
  clientMetadataAllowed!: string[];

  /** The most a client identified by URL may get. */
  @Column({
    name: 'client_metadata_max_scopes',
    type: 'text',
    array: true,
    default: () => "'{}'",
    insert: false,
    update: false,
  })
  clientMetadataMaxScopes!: string[];
}
