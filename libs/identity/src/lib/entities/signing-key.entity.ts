import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A key pair that signs access tokens; the private half is stored envelope-encrypted. */
@Entity({ name: 'signing_keys' })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'text' })
  kid!: string;

  @Column({ type: 'text' })
  alg!: string;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: Record<string, unknown>;

  @Column({ name: 'private_jwk_enc', type: 'text' })
  privateJwkEnc!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** After this the key no longer signs; it stays published until every token it signed has expired. */
  @Column({ name: 'rotate_at', type: 'timestamptz' })
  rotateAt!: Date;

  /** After this the key is no longer published or trusted. */
  @Column({ name: 'retire_at', type: 'timestamptz' })
  retireAt!: Date;
}
