// Reusable zod schemas of single environment variables (URLs, bounded integers, the worker's queues).
import { z } from 'zod';
import { QUEUE_GROUP_NAMES, QUEUE_NAMES, QueueGroup, QueueName, queuesOfGroups } from '@broker/contracts';

export const urlWithScheme = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${schemes.map((s) => `${s}//`).join(' or ')}` },
  );

export const intInRange = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `must be between ${min} and ${max}` });

/** `WORKER_QUEUES`: comma-separated queue groups (or `all`, the default). */
export const workerQueuesSetting = z
  .string()
  .default('all')
  .transform((v) => v.split(',').map((g) => g.trim()))
  .refine((groups) => groups.every((g) => g === 'all' || (QUEUE_GROUP_NAMES as string[]).includes(g)), {
    message: `must be a comma-separated list of queue groups: ${QUEUE_GROUP_NAMES.join(', ')} (or all)`,
  })
  .transform((groups) =>
    queuesOfGroups(groups.includes('all') ? QUEUE_GROUP_NAMES : (groups as QueueGroup[])),
  );

/**
 * `WORKER_CONCURRENCY`: `name=n` pairs, comma-separated; a name is a queue group (every queue of it)
 * or a queue (that queue, winning over its group). Unset queues keep the contracts' settings table.
 */
export const workerConcurrencySetting = z
  .string()
  .default('')
  .refine(
    (v) =>
      v === '' ||
      v.split(',').every((pair) => {
        const m = /^\s*([a-z-]+)=(\d{1,4})\s*$/.exec(pair);
        return (
          !!m &&
          Number(m[2]) >= 1 &&
          ((QUEUE_GROUP_NAMES as string[]).includes(m[1]) ||
            (QUEUE_NAMES as readonly string[]).includes(m[1]))
        );
      }),
    {
      message: `must be comma-separated name=n pairs (n from 1 to 9999), a name being a queue group (${QUEUE_GROUP_NAMES.join(', ')}) or a queue (${QUEUE_NAMES.join(', ')})`,
    },
  )
  .transform((v) => {
    const pairs = v === '' ? [] : v.split(',').map((pair) => pair.trim().split('=') as [string, string]);
    const out: Partial<Record<QueueName, number>> = {};
    // Groups first, then single queues, so a queue's own value wins over its group's.
    for (const [name, n] of pairs)
      if ((QUEUE_GROUP_NAMES as string[]).includes(name))
        for (const q of queuesOfGroups([name as QueueGroup])) out[q] = Number(n);
    for (const [name, n] of pairs)
      if ((QUEUE_NAMES as readonly string[]).includes(name)) out[name as QueueName] = Number(n);
    return out;
  });
