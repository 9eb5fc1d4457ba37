// bench:scale's provider deletion: a second provider's authorizations deleted as a job, the worker
// killed half-way and restarted; wall time, revocations at the provider, audit rows checked.
import { sleep } from './procs';
import { DELETE_N, ScaleRun, step, worker } from './scale.shared';

export async function providerDeletion(run: ScaleRun): Promise<void> {
  const { sys, q, row, notes, counts, api, seed, doomedProvider } = run;
  // Provider deletion, the worker killed half-way
  if (doomedProvider) {
    step(`seeding ${DELETE_N} authorizations of the provider to delete`);
    await seed(doomedProvider, DELETE_N, 'd');
    const cd0 = await counts();
    const startedAt = Date.now();
    const res = await api(`/providers/${doomedProvider}/`, { method: 'DELETE' });
    if (res.status !== 202) throw new Error(`DELETE provider: HTTP ${res.status}`);
    const location = (res.body['location'] as string).replace('/api/v2/externalOAuth', '');
    const jobId = location.split('/').at(-2) as string;
    const left = async () =>
      (
        await q<{ n: number }>(
          `SELECT count(*)::int AS n FROM tokens.authorizations WHERE provider_id = $1`,
          [doomedProvider],
        )
      )[0].n;
    for (const deadline = Date.now() + 300_000; (await left()) > DELETE_N / 2; ) {
      if (Date.now() > deadline) throw new Error('deletion: not half-way after 5 min');
      await sleep(200);
    }
    const atKill = await left();
    worker(sys).killNow();
    await worker(sys).wait();
    step(`worker killed with ${atKill} of ${DELETE_N} left; restarting it`);
    sys.others[1] = await sys.startService('worker', {}, 'worker-2');
    let job: Record<string, unknown> = {};
    for (const deadline = Date.now() + 600_000; ; ) {
      job = (await api(location)).body;
      if (job['status'] === 'COMPLETED' || job['status'] === 'ERROR') break;
      if (Date.now() > deadline) throw new Error(`deletion still ${String(job['status'])} after 10 min`);
      await sleep(500);
    }
    const wallS = (Date.now() - startedAt) / 1000;
    const cd1 = await counts();
    const [audit] = await q<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT authorization_id)::int AS distinct FROM tokens.audit_events WHERE type = 'unlinked' AND detail LIKE $1`,
      [`%"jobId":"${jobId}"%`],
    );
    const remaining = await left();
    row(
      'provider deletion',
      `${DELETE_N} authorizations in ${wallS.toFixed(0)} s (${String(job['status'])}), worker killed with ${atKill} left; ${cd1.revoke - cd0.revoke} revocations at the provider (${cd1.revoke - cd0.revoke - DELETE_N} repeated: the batch in flight at the kill)`,
    );
    row(
      'deletion correct',
      `${remaining} left, ${audit.n} audit rows for ${audit.distinct} distinct authorizations (expected ${DELETE_N} each)`,
    );
    if (
      remaining !== 0 ||
      audit.n !== DELETE_N ||
      audit.distinct !== DELETE_N ||
      job['status'] !== 'COMPLETED'
    )
      notes.push('DELETION INCORRECT: see the rows above');
  }
}
