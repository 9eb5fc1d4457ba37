import { QUEUE_GROUPS, QUEUE_GROUP_NAMES, QUEUE_NAMES, queueGroupOf, queuesOfGroups } from '../src';

describe('queue groups', () => {
  it('puts every queue in exactly one group, so Deployments covering every group consume every queue', () => {
    const placed = Object.values(QUEUE_GROUPS).flat();
    expect([...placed].sort()).toEqual([...QUEUE_NAMES].sort());
    expect(new Set(placed).size).toBe(placed.length);
  });

  it('lists the queues of the chosen groups only', () => {
    expect(queuesOfGroups(['refresh'])).toEqual(['token-refresh']);
    expect(queuesOfGroups(['webhooks', 'device'])).toEqual(['device-poll', 'webhook-delivery']);
    expect(queuesOfGroups(QUEUE_GROUP_NAMES)).toEqual([...QUEUE_NAMES]);
    expect(queueGroupOf('stats')).toBe('housekeeping');
  });
});
