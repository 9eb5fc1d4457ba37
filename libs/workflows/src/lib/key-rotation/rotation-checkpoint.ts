import type { JobDetail } from '@broker/contracts';
import type { JobEntity } from '@broker/registry';
import { detailOf } from '../recorded-jobs';

/** The tables a rotation walks, in order, each in id order. */
export const ROTATION_TABLES = ['secure_configs', 'credentials'] as const;
export type RotationTable = (typeof ROTATION_TABLES)[number];

export interface RotationTotals {
  rewrapped: number;
  conflicts: number;
  failed: number;
}

/** Where a run starts: the table and last id done, the totals so far, the rows due when the job first started. */
export interface RotationResume {
  table: RotationTable;
  afterId?: string;
  totals: RotationTotals;
  due?: number;
}

/** Where a previous run of this job stopped (its checkpoint detail), with its totals so far. */
export function resumeFrom(record: JobEntity | null): RotationResume {
  const get = (name: string) => detailOf(record, name);
  const count = (name: string) => Number(get(name) ?? 0) || 0;
  const totals = { rewrapped: count('rewrapped'), conflicts: count('conflicts'), failed: 0 };
  const [table, afterId] = (get('checkpoint') ?? '').split(':');
  const due = get('due_at_start') ? count('due_at_start') : undefined;
  // Undecryptable rows before the checkpoint are not scanned again: their count carries over.
  if ((ROTATION_TABLES as readonly string[]).includes(table) && afterId && /^[0-9a-f-]{36}$/i.test(afterId))
    return {
      table: table as RotationTable,
      afterId,
      totals: { ...totals, failed: count('undecryptable') },
      due,
    };
  // No checkpoint: the first run, or a new pass after conflicts (rows still due are found by key id).
  return { table: ROTATION_TABLES[0], totals, due };
}

/** The job's details: its progress for the jobs API and its checkpoint (`table:lastId`) for a resumed run. */
export function rotationDetails(
  total: RotationTotals,
  due: number,
  remaining: number,
  checkpoint: string,
): JobDetail[] {
  return [
    { name: 'rewrapped', value: String(total.rewrapped) },
    { name: 'conflicts', value: String(total.conflicts) },
    { name: 'undecryptable', value: String(total.failed) },
    { name: 'remaining', value: String(Math.max(0, remaining)) },
    { name: 'due_at_start', value: String(due) },
    { name: 'checkpoint', value: checkpoint },
  ];
}
