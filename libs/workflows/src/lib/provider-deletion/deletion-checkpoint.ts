import type { JobDetail } from '@broker/contracts';
import type { JobEntity } from '@broker/registry';
import { detailOf } from '../recorded-jobs';

/** How many removed ids the job's details list (every one is in the audit trail). */
export const LISTED_IDS = 1_000;

/** The deletion's checkpoint, kept in the job's details so a resumed job carries on from it. */
export interface DeletionCheckpoint {
  /** Authorizations the provider had when the job first started. */
  total: number;
  revoked: number;
  /** The first removed ids (up to LISTED_IDS). */
  ids: string[];
  /** The last audit row whose `authorization.revoked` was published. */
  announcedThrough: string | null;
}

/** The checkpoint a previous run left in the job's details, or a fresh one. */
export function checkpointOf(record: JobEntity, remainingNow: number): DeletionCheckpoint {
  const get = (name: string) => detailOf(record, name);
  const total = Number(get('total'));
  return {
    total: Number.isInteger(total) && total >= remainingNow ? total : remainingNow,
    revoked: Number(get('revoked') ?? 0) || 0,
    ids: (get('authorization_ids') ?? '').split(',').filter(Boolean),
    announcedThrough: get('announced_through') || null,
  };
}

/** The job's details: its progress for the jobs API and its checkpoint for a resumed run. */
export function deletionDetails(providerId: string, cp: DeletionCheckpoint, remaining: number): JobDetail[] {
  return [
    { name: 'provider_id', value: providerId },
    { name: 'authorization_ids', value: cp.ids.join(',') },
    { name: 'revoked', value: String(cp.revoked) },
    { name: 'total', value: String(cp.total) },
    { name: 'removed', value: String(Math.max(0, cp.total - remaining)) },
    { name: 'remaining', value: String(remaining) },
    { name: 'announced_through', value: cp.announcedThrough ?? '' },
  ];
}
