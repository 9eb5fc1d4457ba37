import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { JobDetail, JobStatus, JobType } from '@broker/contracts';

/** A background job users can follow (`GET /jobs/{id}/`); system jobs (key rotation) have no org. */
@Entity({ name: 'jobs' })
export class JobEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'org_id', type: 'text', nullable: true })
  orgId!: string | null;

  @Column({ type: 'text' })
  type!: JobType;

  @Column({ type: 'text', default: 'PENDING' })
  status!: JobStatus;

  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" })
  details!: JobDetail[];

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
