import { z } from 'zod';

/**
 * Background work queues and their jobs. Job payloads carry ids only, never secrets or tokens.
 * Queue and job names are part of the wire contract: add new ones, never rename. (A `revocation`
 * queue was declared from the start and never produced; it was removed, upstream revocation runs in
 * the provider-deletion and unlink paths.)
 */
export const QUEUE_NAMES = [
  'token-refresh',
  'provider-deletion',
  'stats',
  'key-rotation',
  'device-poll',
  'setup-expiry',
  'webhook-delivery',
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

/** Job name → payload, per queue. Processors are typed from this map and must cover every name. */
export interface JobMap {
  'token-refresh': {
    /**
     * One token set's refresh ahead of expiry, as planned before the schedule moved to PostgreSQL:
     * no longer produced, still run for jobs queued by an older version (only when the row is due).
     */
    REFRESH_AUTHORIZATION: { orgId: string; authorizationId: string };
    /**
     * The refresh sweep, repeated by a BullMQ job scheduler (one per cluster): claims the token sets
     * whose `refresh_due_at` has come (PostgreSQL is the schedule) and refreshes or reschedules them.
     */
    SWEEP_DUE_REFRESHES: Record<string, never>;
  };
  'provider-deletion': {
    DELETE_PROVIDER: { orgId: string; providerId: string; jobId: string };
  };
  stats: {
    STATS: { orgId: string; jobId: string };
  };
  'key-rotation': {
    /** Re-encrypts every secret not yet under the active key (jobId: the job record). */
    ROTATE_KEYS: { jobId: string };
  };
  'device-poll': {
    /** One poller per device authorization (jobId `device-<id>`): polls, then re-delays itself by the interval. */
    POLL_DEVICE_AUTHORIZATION: { orgId: string; deviceAuthorizationId: string };
  };
  'setup-expiry': {
    /**
     * Housekeeping of OAuth setups, repeated by a BullMQ job scheduler (one per cluster): expires
     * setups past `expires_at` and removes finished ephemeral ones. Acts only on PostgreSQL state.
     */
    SWEEP_SETUPS: Record<string, never>;
    /*
     * The worker's other housekeeping sweeps, each repeated by its own job scheduler on this queue
     * (once per interval per cluster, whatever the number of workers). Each acts only on what
     * PostgreSQL and the queues record, so a forged one only runs a sweep early.
     */
    /** Refresh candidates left by a crash: adopted or discarded. */
    SWEEP_REFRESH_CANDIDATES: Record<string, never>;
    /** Consent states past their lifetime: removed. */
    SWEEP_CONSENT_STATES: Record<string, never>;
    /** Device authorizations: expired, removed, or their lost poller started again. */
    SWEEP_DEVICE_POLLERS: Record<string, never>;
    /** Open job records whose queue entry is missing (queued again) or failed for good (marked ERROR). */
    SWEEP_OPEN_JOBS: Record<string, never>;
  };
  'webhook-delivery': {
    /** One signed POST of a recorded delivery (the row says what and where); retried with backoff for a day. */
    DELIVER_WEBHOOK: { orgId: string; deliveryId: string };
  };
}

export type JobName<Q extends QueueName> = keyof JobMap[Q] & string;
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobMap[Q][N];

/** How each queue's jobs are retried, kept and processed. Total: a queue without options does not compile. */
export interface QueueSettings {
  /** Jobs one worker process runs at once on this queue. */
  concurrency: number;
  /** Attempts before a job is failed for good. */
  attempts: number;
  /** Exponential backoff base delay between attempts, in ms (jitter is added by the producer). */
  backoffMs: number;
  /** How long a job may run before it counts as stalled and is picked up by another worker. */
  lockDurationMs: number;
  /** Completed/failed jobs kept in Redis for inspection (the user-visible job record lives in PostgreSQL). */
  keepCompleted: number;
  keepFailed: number;
}

export const QUEUE_SETTINGS: Record<QueueName, QueueSettings> = {
  'token-refresh': {
    concurrency: 50,
    attempts: 5,
    backoffMs: 1_000,
    lockDurationMs: 30_000,
    keepCompleted: 100,
    keepFailed: 1_000,
  },
  'provider-deletion': {
    concurrency: 2,
    attempts: 10,
    backoffMs: 5_000,
    // Short: a worker that dies mid-deletion hands the job to another within ~15 s (a live one renews the lock).
    lockDurationMs: 15_000,
    keepCompleted: 100,
    keepFailed: 1_000,
  },
  stats: {
    concurrency: 1,
    attempts: 3,
    backoffMs: 5_000,
    lockDurationMs: 120_000,
    keepCompleted: 50,
    keepFailed: 200,
  },
  // Short lock, as for deletions: a worker that dies mid-rotation hands it on within ~15 s, resumed from its checkpoint.
  'key-rotation': {
    concurrency: 1,
    attempts: 10,
    backoffMs: 5_000,
    lockDurationMs: 15_000,
    keepCompleted: 20,
    keepFailed: 100,
  },
  // A poll is one short provider call; between polls the job waits delayed in Redis, holding no worker slot.
  'device-poll': {
    concurrency: 20,
    attempts: 5,
    backoffMs: 2_000,
    lockDurationMs: 30_000,
    keepCompleted: 100,
    keepFailed: 1_000,
  },
  'setup-expiry': {
    concurrency: 1,
    attempts: 3,
    backoffMs: 5_000,
    lockDurationMs: 60_000,
    keepCompleted: 10,
    keepFailed: 100,
  },
  // Retries are scheduled by the processor from the delivery row (exponential, for a day), not by BullMQ attempts.
  'webhook-delivery': {
    concurrency: 20,
    attempts: 1,
    backoffMs: 1_000,
    lockDurationMs: 30_000,
    keepCompleted: 100,
    keepFailed: 1_000,
  },
};

const jobIdField = z.string().uuid();
const orgIdField = z.string().min(1).max(64);
const rowId = z.string().min(1).max(256);

/**
 * The shape of every job's data, checked before its handler runs: job data comes from Redis and is
 * untrusted (anyone who reaches Redis can add a job). A processor additionally acts only on state
 * recorded in PostgreSQL by an authenticated call, never on the payload's word alone.
 */
export const JOB_PAYLOAD_SCHEMAS: { [Q in QueueName]: { [N in JobName<Q>]: z.ZodType<JobPayload<Q, N>> } } = {
  'token-refresh': {
    REFRESH_AUTHORIZATION: z.strictObject({ orgId: orgIdField, authorizationId: rowId }),
    SWEEP_DUE_REFRESHES: z.strictObject({}),
  },
  'provider-deletion': {
    DELETE_PROVIDER: z.strictObject({ orgId: orgIdField, providerId: rowId, jobId: jobIdField }),
  },
  stats: { STATS: z.strictObject({ orgId: orgIdField, jobId: jobIdField }) },
  'key-rotation': { ROTATE_KEYS: z.strictObject({ jobId: jobIdField }) },
  'device-poll': {
    POLL_DEVICE_AUTHORIZATION: z.strictObject({ orgId: orgIdField, deviceAuthorizationId: rowId }),
  },
  'setup-expiry': {
    SWEEP_SETUPS: z.strictObject({}),
    SWEEP_REFRESH_CANDIDATES: z.strictObject({}),
    SWEEP_CONSENT_STATES: z.strictObject({}),
    SWEEP_DEVICE_POLLERS: z.strictObject({}),
    SWEEP_OPEN_JOBS: z.strictObject({}),
  },
  'webhook-delivery': { DELIVER_WEBHOOK: z.strictObject({ orgId: orgIdField, deliveryId: rowId }) },
};
