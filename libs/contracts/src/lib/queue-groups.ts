import { QUEUE_NAMES, QueueName } from './jobs';

/**
 * Queue groups: the unit a worker Deployment is scaled by. A worker process consumes the queues of
 * the groups in its `WORKER_QUEUES` setting (all of them by default). Every queue is in exactly one
 * group (checked by the contracts tests), so a set of Deployments that covers every group consumes
 * every queue.
 */
export const QUEUE_GROUPS = {
  /** Refresh ahead of expiry: the bulk of the work, grows with authorizations in use. */
  refresh: ['token-refresh'],
  /** Provider deletion, stats, key rotation, setup expiry and the housekeeping sweeps: rare, some long. */
  housekeeping: ['provider-deletion', 'stats', 'key-rotation', 'setup-expiry'],
  /** Signed webhook deliveries: bursts that follow authorization changes. */
  webhooks: ['webhook-delivery'],
  /** Device-flow pollers: one delayed job per pending device authorization. */
  device: ['device-poll'],
} as const satisfies Record<string, readonly QueueName[]>;

export type QueueGroup = keyof typeof QUEUE_GROUPS;
export const QUEUE_GROUP_NAMES = Object.keys(QUEUE_GROUPS) as QueueGroup[];

/** The group a queue belongs to. */
export function queueGroupOf(queue: QueueName): QueueGroup {
  const group = QUEUE_GROUP_NAMES.find((g) => (QUEUE_GROUPS[g] as readonly QueueName[]).includes(queue));
  if (!group) throw new Error(`queue '${queue}' is in no queue group`);
  return group;
}

/** The queues of the given groups, in the contracts' order. */
export function queuesOfGroups(groups: readonly QueueGroup[]): QueueName[] {
  return QUEUE_NAMES.filter((q) => groups.includes(queueGroupOf(q)));
}
