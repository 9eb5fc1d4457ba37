import { DataSource, EntityManager, In, IsNull, LessThan } from 'typeorm';
import type { JobDetail, JobType, OAuthProviderJob } from '@broker/contracts';
import { JobEntity } from './job.entity';

const JOB_NAMES: Record<JobType, string> = {
  DELETE_PROVIDER: 'Delete OAuth provider',
  STATS: 'OAuth provider statistics',
  ROTATE_KEYS: 'Re-encrypt secrets under the active key',
};

/**
 * The job records users follow (PostgreSQL is their source of truth; BullMQ only runs them).
 * Transitions: PENDING → RUNNING → COMPLETED | ERROR; a retried job stays RUNNING.
 */
export class JobsService {
  constructor(private readonly dataSource: DataSource) {}

  async create(
    em: EntityManager | undefined,
    orgId: string | null,
    type: JobType,
    details: JobDetail[] = [],
  ): Promise<JobEntity> {
    const repo = (em ?? this.dataSource.manager).getRepository(JobEntity);
    return repo.save(repo.create({ orgId, type, details, status: 'PENDING' }));
  }

  /** The org's job (never another org's, never a system job). */
  async get(orgId: string, id: string): Promise<OAuthProviderJob | null> {
    if (!isUuid(id)) return null;
    const job = await this.dataSource.getRepository(JobEntity).findOneBy({ id, orgId });
    return job ? toOAuthProviderJob(job) : null;
  }

  find(id: string): Promise<JobEntity | null> {
    return isUuid(id) ? this.dataSource.getRepository(JobEntity).findOneBy({ id }) : Promise.resolve(null);
  }

  /** Marks the job running (keeps the first start time); false when it already finished. */
  async start(id: string): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `UPDATE registry.jobs SET status = 'RUNNING', started_at = COALESCE(started_at, now()), updated_at = now()
        WHERE id = $1 AND status IN ('PENDING', 'RUNNING')`,
      [id],
    )) as [unknown, number];
    return count === 1;
  }

  /** Replaces the details while the job runs (progress). */
  async progress(id: string, details: JobDetail[]): Promise<void> {
    await this.dataSource.query(`UPDATE registry.jobs SET details = $2, updated_at = now() WHERE id = $1`, [
      id,
      JSON.stringify(details),
    ]);
  }

  async complete(id: string, details: JobDetail[], em?: EntityManager): Promise<void> {
    await (em ?? this.dataSource.manager).query(
      `UPDATE registry.jobs SET status = 'COMPLETED', details = $2, error = NULL, finished_at = now(), updated_at = now() WHERE id = $1`,
      [id, JSON.stringify(details)],
    );
  }

  async fail(id: string, error: string, details?: JobDetail[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE registry.jobs SET status = 'ERROR', error = $2, details = COALESCE($3::jsonb, details), finished_at = now(), updated_at = now() WHERE id = $1`,
      [id, error.slice(0, 500), details ? JSON.stringify(details) : null],
    );
  }

  /** Open jobs not touched for `idleMs`: their queue entry may be lost and is re-added (by job id, so never twice). */
  idle(idleMs: number, limit = 100): Promise<JobEntity[]> {
    return this.dataSource.getRepository(JobEntity).find({
      where: { status: In(['PENDING', 'RUNNING']), updatedAt: LessThan(new Date(Date.now() - idleMs)) },
      order: { updatedAt: 'ASC' },
      take: limit,
    });
  }

  /** The latest system jobs (no org) of a type, newest first. */
  latestSystemJobs(type: JobType, limit: number): Promise<JobEntity[]> {
    return this.dataSource
      .getRepository(JobEntity)
      .find({ where: { orgId: IsNull(), type }, order: { createdAt: 'DESC' }, take: limit });
  }

  /** The open system job of this type, created if there is none (one at a time across workers). */
  async openSystemJob(type: JobType): Promise<JobEntity> {
    return this.dataSource.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`system-job:${type}`]);
      const open = await em
        .getRepository(JobEntity)
        .findOne({ where: { orgId: IsNull(), type, status: In(['PENDING', 'RUNNING']) } });
      return open ?? this.create(em, null, type);
    });
  }

  /** The open deletion job of a provider, if one is under way. */
  async openDeletion(em: EntityManager, orgId: string, providerId: string): Promise<JobEntity | null> {
    return em
      .getRepository(JobEntity)
      .createQueryBuilder('j')
      .where('j.org_id = :orgId AND j.type = :type AND j.status IN (:...open)', {
        orgId,
        type: 'DELETE_PROVIDER',
        open: ['PENDING', 'RUNNING'],
      })
      .andWhere(`j.details @> :detail::jsonb`, {
        detail: JSON.stringify([{ name: 'provider_id', value: providerId }]),
      })
      .orderBy('j.created_at', 'DESC')
      .getOne();
  }
}

/** `handler.jobStatusResponse` of seed 000. */
export function toOAuthProviderJob(job: JobEntity): OAuthProviderJob {
  return {
    id: job.id,
    orgId: job.orgId ?? '',
    name: JOB_NAMES[job.type],
    type: job.type,
    status: job.status,
    details: job.details,
    startedAt: job.startedAt ? job.startedAt.toISOString() : null,
    finishedAt: job.finishedAt ? job.finishedAt.toISOString() : null,
  };
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
