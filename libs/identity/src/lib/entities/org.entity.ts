import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A tenant (the seed's `team_id`); everything a customer owns hangs off one. */
@Entity({ name: 'orgs' })
export class OrgEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** A disabled org's clients cannot authenticate, so nobody gets new tokens for it. */
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
