import { Job, UnrecoverableError } from 'bullmq';
import { JobHandlers, dispatchJob } from '../src';

/** Job data comes from Redis, where anyone can add a job: its shape is checked before a handler runs. */
describe('dispatchJob with untrusted job data', () => {
  const seen: unknown[] = [];
  const handlers: JobHandlers<'stats'> = { STATS: async (payload) => seen.push(payload) };
  const job = (name: string, data: unknown) => ({ name, data }) as Job;

  beforeEach(() => (seen.length = 0));

  it('hands a handler only data of its job’s shape', async () => {
    const data = { orgId: 'acme', jobId: '6b03d19f-18ad-4638-b93e-637240ae1250' };
    await dispatchJob('stats', handlers, job('STATS', data));
    expect(seen).toEqual([data]);
  });

  it('fails for good, without calling the handler, on data of another shape or an unknown name', async () => {
    const bad = [
      { orgId: 'acme' },
      { orgId: 'acme', jobId: 'not-a-uuid' },
      { orgId: 'acme', jobId: '6b03d19f-18ad-4638-b93e-637240ae1250', extra: 'field' },
      { orgId: 7, jobId: '6b03d19f-18ad-4638-b93e-637240ae1250' },
      'STATS',
      null,
    ];
    for (const data of bad)
      expect(() => dispatchJob('stats', handlers, job('STATS', data))).toThrow(UnrecoverableError);
    expect(() => dispatchJob('stats', handlers, job('DELETE_PROVIDER', { orgId: 'acme' }))).toThrow(
      UnrecoverableError,
    );
    expect(seen).toEqual([]);
  });
});
