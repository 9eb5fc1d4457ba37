import { Job, UnrecoverableError } from 'bullmq';
import { JobHandlers, dispatchJob } from '../src';
import { splitTraceparent, withTraceparent } from '../src/lib/jobs/job-trace';

/** A job's traceparent (tracing) is taken out of its data before the schema check, and can break nothing. */
describe('traceparent in job data', () => {
  const seen: unknown[] = [];
  const handlers: JobHandlers<'stats'> = { STATS: async (payload) => seen.push(payload) };
  const job = (data: unknown) => ({ name: 'STATS', data }) as Job;
  const ids = { orgId: 'acme', jobId: '6b03d19f-18ad-4638-b93e-637240ae1250' };

  beforeEach(() => (seen.length = 0));

  it('the handler gets the data without it, whether it is well-formed, garbage or too long', async () => {
    for (const traceparent of [`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, 'garbage', 'x'.repeat(500), 42]) {
      await dispatchJob('stats', handlers, job({ ...ids, traceparent }));
    }
    expect(seen).toEqual([ids, ids, ids, ids]);
  });

  it('does not open the door to other fields', () => {
    expect(() =>
      dispatchJob('stats', handlers, job({ ...ids, traceparent: 'garbage', extra: 'field' })),
    ).toThrow(UnrecoverableError);
    expect(seen).toEqual([]);
  });

  it('without tracing (no tracer provider) no traceparent is added to a job', () => {
    expect(withTraceparent(ids)).toBe(ids);
    expect(splitTraceparent(ids)).toEqual({ data: ids });
  });
});
