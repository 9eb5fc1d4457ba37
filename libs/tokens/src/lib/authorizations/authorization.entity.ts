import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { AuthorizationStatus } from '@broker/contracts';

/** One user's grant from one account at one provider (seed 000 `models.AuthorizedProvider`). */
@Entity({ name: 'authorizations' })
export class AuthorizationEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'provider_id', type: 'uuid' })
  providerId!: string;

  @Column({ name: 'user_id', type: 'text' })
  userId!: string;

  @Column({ name: 'oauth_client_id', type: 'text' })
  oauthClientId!: string;

  @Column({ type: 'text', default: 'active' })
  status!: AuthorizationStatus;

  @Column({ name: 'credential_id', type: 'uuid', nullable: true })
  credentialId!: string | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes!: string[];

  /** The account's id at the provider (its user id); null when the provider would not say. */
  @Column({ name: 'account_id', type: 'text', nullable: true })
  accountId!: string | null;

  /** How the account shows (login or e-mail at the provider). */
  @Column({ name: 'account_label', type: 'text', nullable: true })
  accountLabel!: string | null;

  @Column({ name: 'external_user', type: 'jsonb', nullable: true })
  externalUser!: Record<string, unknown> | null;

  @Column({ name: 'refresh_token_expires_at', type: 'timestamptz', nullable: true })
  refreshTokenExpiresAt!: Date | null;

  @Column({ name: 'refresh_succeeded', type: 'integer', default: 0 })
  refreshSucceeded!: number;

  @Column({ name: 'refresh_failed', type: 'integer', default: 0 })
  refreshFailed!: number;

  @Column({ name: 'last_refreshed_at', type: 'timestamptz', nullable: true })
  lastRefreshedAt!: Date | null;

  /** When a caller was last served a token of it (batched; decides refresh ahead vs keep-alive). */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  /** Outcome of the last upstream revocation attempt (on unlink), for the record. */
  @Column({ name: 'revocation_status', type: 'text', nullable: true })
  revocationStatus!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
