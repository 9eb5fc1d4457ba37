import type { Cluster, Redis } from 'ioredis';

type RedisConnection = Redis | Cluster;

const READ_ONLY: Record<string, string> = { eval: 'eval_ro', evalsha: 'evalsha_ro' };

/**
 * Sends every Lua script of `redis` as EVAL_RO / EVALSHA_RO (Redis 7). BullMQ reads counts and job
 * lists through scripts, and Redis checks a plain EVAL's keys as read-write, so a user holding only
 * read rights on the queue keys (`%R~`, what the read-only dashboard's gateway user gets) is refused
 * them; the _RO forms declare their keys read-only, and Redis refuses any write such a script tries.
 * ioredis decides between EVAL and EVALSHA when it writes the command to the socket (by setting
 * `name`), so the rename is applied at that moment through the property, not at send time.
 */
export function readOnlyScripts<R extends RedisConnection>(redis: R): R {
  const send = redis.sendCommand.bind(redis) as (...args: unknown[]) => unknown;
  (redis as { sendCommand: unknown }).sendCommand = (command: { name: string }, ...rest: unknown[]) => {
    if (command.name in READ_ONLY) {
      let name = READ_ONLY[command.name] as string;
      Object.defineProperty(command, 'name', {
        configurable: true,
        enumerable: true,
        get: () => name,
        set: (value: string) => {
          name = READ_ONLY[value] ?? value;
        },
      });
    }
    return send(command, ...rest);
  };
  return redis;
}
