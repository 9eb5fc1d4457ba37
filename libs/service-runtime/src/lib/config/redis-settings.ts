import { z } from 'zod';
import { RedisUrlError, parseRedisUrl } from '@broker/bus-protocol';

/** REDIS_URL: one server, a Redis Cluster or Sentinel (the forms are described on parseRedisUrl). */
export const redisUrlSetting = z.string().superRefine((value, ctx) => {
  try {
    parseRedisUrl(value);
  } catch (err) {
    if (!(err instanceof RedisUrlError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
});

/**
 * BUS_PREFIX: letters, digits, _ . - and at most one `{…}` hash tag. In a Redis Cluster a
 * multi-key operation must stay in one slot (BullMQ's scripts touch several keys of a queue), and
 * Redis hashes only what is inside the first `{…}` of a key: a prefix of `{broker}` puts every
 * key of this deployment in one slot.
 */
export const busPrefixSetting = z
  .string()
  .regex(/^[a-zA-Z0-9_.-]*(\{[a-zA-Z0-9_.-]+\})?[a-zA-Z0-9_.-]*$/, {
    message: 'letters, digits, _ . - and at most one {hash tag} only',
  })
  .refine((v) => v.length > 0, { message: 'must not be empty' })
  .default('broker');

/** Whether a prefix holds a hash tag Redis Cluster hashes on. */
export function hasHashTag(prefix: string): boolean {
  return /\{[^}]+\}/.test(prefix);
}

/**
 * The problem with REDIS_URL and BUS_PREFIX together, if any: in a Redis Cluster, a prefix without
 * a hash tag spreads a queue's keys over slots and BullMQ's scripts fail with CROSSSLOT.
 */
export function clusterPrefixProblem(redisUrl: string, prefix: string): string | undefined {
  if (parseRedisUrl(redisUrl).kind !== 'cluster' || hasHashTag(prefix)) return undefined;
  return `BUS_PREFIX: in a Redis Cluster (REDIS_URL redis+cluster://) the prefix needs a hash tag, e.g. {${prefix}}, so each job queue's keys share one slot`;
}
