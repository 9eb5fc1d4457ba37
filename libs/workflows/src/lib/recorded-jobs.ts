import type { JobEntity } from '@broker/registry';

/** A job record that is still to be done (a finished or unknown one is never acted on again). */
export function isOpen(record: JobEntity | null): record is JobEntity {
  return !!record && (record.status === 'PENDING' || record.status === 'RUNNING');
}

/** A detail of a job record by name (the job's checkpoint and progress live in its details). */
export function detailOf(record: JobEntity | null, name: string): string | undefined {
  return record?.details.find((d) => d.name === name)?.value;
}
