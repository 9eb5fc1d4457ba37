import { createRedisConnection } from '@broker/bus';
import type { ServiceConfig } from '@broker/service-runtime';
import type { TokenPathFaults } from '@broker/tokens';

/** Redis key a test sets to make the next replica that gets a provider's refresh answer die before writing it. */
export function exitAfterProviderAnswerKey(busPrefix: string): string {
  return `${busPrefix}:test-faults:exit-after-provider-answer`;
}

/**
 * Faults for end-to-end tests, wired only when TEST_FAULT_HOOKS=1 (never in a deployment): a test
 * arms a fault by setting a Redis key; the first replica to reach that point takes it (GETDEL) and
 * is killed (SIGKILL: no shutdown hook, no flush, as a crash or an OOM kill would).
 */
export function testFaults(config: ServiceConfig): TokenPathFaults {
  const redis = createRedisConnection(config.redisUrl, 'token-broker:test-faults');
  return {
    afterProviderAnswer: async () => {
      if (await redis.getdel(exitAfterProviderAnswerKey(config.bus.prefix)))
        process.kill(process.pid, 'SIGKILL');
    },
  };
}
