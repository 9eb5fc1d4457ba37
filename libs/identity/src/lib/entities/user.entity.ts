import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A person of an org, as signed in through the upstream identity provider. */
@Entity({ name: 'users' })
@Unique('users_org_sub_key', ['orgId', 'sub'])
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  /** The subject identifier of the user in the broker's tokens. */
  @Column({ type: 'text' })
  sub!: string;

  @Column({ name: 'given_name', type: 'text', nullable: true })
  givenName!: string | null;

  @Column({ name: 'family_name', type: 'text', nullable: true })
  familyName!: string | null;

  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @Column({ type: 'text', nullable: true })
  zoneinfo!: string | null;

  @CreateDateColumn({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;

  /** A disabled user cannot sign in, and their tokens are refused. */
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  /** What this person may do: a token they get by signing in has its client's scopes ∩ these. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  scopes!: string[];

  /** The upstream identity provider's subject of this person, once they signed in (unique per org). */
  @Column({ name: 'upstream_subject', type: 'text', nullable: true })
  upstreamSubject!: string | null;
}
