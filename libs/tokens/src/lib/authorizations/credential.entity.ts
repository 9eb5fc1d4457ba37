import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * An authorization's token set. Tokens are envelope-encrypted (table, column, org and row id as
 * associated data); `version` is bumped by every write (compare-and-swap for key rotation),
 * `generation` by every refresh, `fence` by every refresh lease.
 */
@Entity({ name: 'credentials' })
export class CredentialEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'authorization_id', type: 'uuid' })
  authorizationId!: string;

  @Column({ name: 'access_token', type: 'text' })
  accessToken!: string;

  @Column({ name: 'refresh_token', type: 'text', nullable: true })
  refreshToken!: string | null;

  @Column({ name: 'token_type', type: 'text', default: 'Bearer' })
  tokenType!: string;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ type: 'integer', default: 1 })
  version!: number;

  @Column({ type: 'integer', default: 1 })
  generation!: number;

  @Column({ type: 'bigint', default: 0 })
  fence!: string;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;

  /** When the worker looks at this token set next (refresh ahead, or keep-alive); null: never. */
  @Column({ name: 'refresh_due_at', type: 'timestamptz', nullable: true })
  refreshDueAt!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
