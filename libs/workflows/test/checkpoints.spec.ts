import { randomUUID } from 'node:crypto';
import type { JobDetail } from '@broker/contracts';
import type { JobEntity } from '@broker/registry';
import { checkpointOf, deletionDetails, resumeFrom, rotationDetails } from '../src';

const withDetails = (details: JobDetail[]) => ({ details }) as JobEntity;

describe('job checkpoints: what a resumed run reads back from the job record', () => {
  it('a deletion resumes with the totals, listed ids and announcement mark it left', () => {
    const ids = [randomUUID(), randomUUID()];
    const audit = randomUUID();
    const details = deletionDetails('p1', { total: 5, revoked: 2, ids, announcedThrough: audit }, 3);
    expect(details.find((d) => d.name === 'removed')?.value).toBe('2');
    expect(checkpointOf(withDetails(details), 3)).toEqual({
      total: 5,
      revoked: 2,
      ids,
      announcedThrough: audit,
    });
  });

  it('a deletion with no checkpoint (or a total below what remains) starts from what remains', () => {
    expect(checkpointOf(withDetails([]), 7)).toEqual({
      total: 7,
      revoked: 0,
      ids: [],
      announcedThrough: null,
    });
    expect(checkpointOf(withDetails([{ name: 'total', value: '2' }]), 7).total).toBe(7);
  });

  it('a rotation resumes after the table and id of its checkpoint, keeping its undecryptable count', () => {
    const lastId = randomUUID();
    const details = rotationDetails(
      { rewrapped: 10, conflicts: 1, failed: 2 },
      40,
      28,
      `credentials:${lastId}`,
    );
    expect(resumeFrom(withDetails(details))).toEqual({
      table: 'credentials',
      afterId: lastId,
      totals: { rewrapped: 10, conflicts: 1, failed: 2 },
      due: 40,
    });
  });

  it('a rotation checkpoint that is not a known table and an id starts a fresh pass from the first table', () => {
    for (const checkpoint of ['', 'users:' + randomUUID(), "credentials:1' OR 1=1", 'credentials'])
      expect(
        resumeFrom(
          withDetails([
            { name: 'checkpoint', value: checkpoint },
            { name: 'undecryptable', value: '3' },
          ]),
        ),
      ).toEqual({
        table: 'secure_configs',
        totals: { rewrapped: 0, conflicts: 0, failed: 0 },
        due: undefined,
      });
  });
});
