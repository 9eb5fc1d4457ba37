import { QUEUE_NAMES, type QueueName } from '@broker/contracts';
import { StartupCheckError, assertQueueProcessors } from '@broker/service-runtime';
import { consumerViews } from '../src/queue-selection';
import { StatsProcessor } from '../src/stats.processor';
import { TokenRefreshProcessor } from '../src/token-refresh.processor';

// The worker's boot check over its real placement table: it passes as shipped, and fails, naming the
// queue, when the placement is broken (no processor, the wrong processor, or one not registered).
describe('start-up check: every consumed queue has its processor', () => {
  const everyRegistered = () => true;

  it('passes for every queue of the contracts as placed today', () => {
    const views = consumerViews(QUEUE_NAMES, everyRegistered);
    expect(views.map((v) => v.queue)).toEqual(expect.arrayContaining(['token-refresh', 'webhook-delivery']));
    for (const view of views) expect(view.decoratedQueue).toBe(view.queue);
    expect(() => assertQueueProcessors(views)).not.toThrow();
  });

  it('fails when a consumed queue has no processor', () => {
    const views = consumerViews(['stats', 'token-refresh'], everyRegistered, (q) =>
      q === 'token-refresh' ? null : StatsProcessor,
    );
    expect(() => assertQueueProcessors(views)).toThrow(StartupCheckError);
    expect(() => assertQueueProcessors(views)).toThrow("queue 'token-refresh' has no processor");
  });

  it('fails when a queue is placed on a processor decorated for another queue', () => {
    const wrong = (q: QueueName) => (q === 'token-refresh' ? StatsProcessor : TokenRefreshProcessor);
    const views = consumerViews(['token-refresh'], everyRegistered, wrong);
    expect(() => assertQueueProcessors(views)).toThrow(
      "queue 'token-refresh' is placed on StatsProcessor, whose @Processor consumes 'stats'",
    );
  });

  it('fails when the processor is not registered in the module', () => {
    const views = consumerViews(['token-refresh'], (p) => p !== TokenRefreshProcessor);
    expect(() => assertQueueProcessors(views)).toThrow(
      "queue 'token-refresh': TokenRefreshProcessor is not registered in the module",
    );
  });
});
