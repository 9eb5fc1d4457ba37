import { BUS_PATTERN_OWNERS, type QueueName, type ServiceName } from '@broker/contracts';

/**
 * Start-up checks: the contracts' maps (bus pattern -> owner service, queue -> processor) are total
 * at compile time, but only the running process knows which handlers and processors really got
 * registered. A pattern its owner has no handler for, or a consumed queue nobody processes, would
 * otherwise show up as requests timing out or jobs piling up; here it stops the process at boot.
 */
export class StartupCheckError extends Error {
  override readonly name = 'StartupCheckError';
}

/** The bus patterns the owner map gives to `service`. */
export function ownedBusPatterns(
  service: ServiceName,
  owners: Readonly<Record<string, ServiceName>> = BUS_PATTERN_OWNERS,
): string[] {
  return Object.keys(owners).filter((pattern) => owners[pattern] === service);
}

/**
 * Fails when a pattern `service` owns has no registered handler (`registered`: the bus server's
 * patterns, or null when the service runs no bus server at all).
 */
export function assertBusHandlers(
  service: ServiceName,
  registered: Iterable<string> | null,
  owners: Readonly<Record<string, ServiceName>> = BUS_PATTERN_OWNERS,
): void {
  const owned = ownedBusPatterns(service, owners);
  if (owned.length === 0) return;
  if (registered === null)
    throw new StartupCheckError(
      `${service} owns bus patterns (${owned.join(', ')}) but runs no bus server: nothing would answer them`,
    );
  const have = new Set(registered);
  const missing = owned.filter((pattern) => !have.has(pattern));
  if (missing.length > 0)
    throw new StartupCheckError(
      `${service} owns bus pattern${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (libs/contracts BUS_PATTERN_OWNERS) but registers no handler for ${missing.length > 1 ? 'them' : 'it'}`,
    );
}

/** What the queue check needs to know about one consumed queue. */
export interface QueueConsumerView {
  queue: QueueName;
  /** The processor class placed for the queue (null: none). */
  processor: { name: string } | null;
  /** The queue name on the processor's `@Processor` decorator (undefined: not decorated). */
  decoratedQueue: string | undefined;
  /** Whether the process's module really holds an instance of it. */
  registered: boolean;
}

/** Fails when a queue this process is configured to consume has no working processor. */
export function assertQueueProcessors(consumed: readonly QueueConsumerView[]): void {
  const problems: string[] = [];
  for (const { queue, processor, decoratedQueue, registered } of consumed) {
    if (!processor) problems.push(`queue '${queue}' has no processor`);
    else if (decoratedQueue !== queue)
      problems.push(
        `queue '${queue}' is placed on ${processor.name}, whose @Processor consumes ${decoratedQueue === undefined ? 'no queue' : `'${decoratedQueue}'`}`,
      );
    else if (!registered)
      problems.push(`queue '${queue}': ${processor.name} is not registered in the module`);
  }
  if (problems.length > 0)
    throw new StartupCheckError(`configured to consume queues it cannot process: ${problems.join('; ')}`);
}
