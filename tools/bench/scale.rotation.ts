// bench:scale's online key rotation: a new active key, every value re-wrapped by the worker while
// the hot authorizations are acquired; acquire p99 idle vs during.
import { randomBytes } from 'node:crypto';
import { sleep } from './procs';
import { percentile } from './stats';
import { ROTATION_RPS, ScaleRun, acquireLoop, broker, ms, step, worker } from './scale.shared';

export async function keyRotation(run: ScaleRun, hot: string[]): Promise<void> {
  const { sys, bus, q, row } = run;
  // Online key rotation
  step('acquire p99 idle (the reference for the rotation)');
  const idle = await acquireLoop(
    bus,
    sys.adminToken,
    hot,
    (() => {
      const end = Date.now() + 15_000;
      return () => Date.now() >= end;
    })(),
  );
  const k2 = `k2:${randomBytes(32).toString('base64')}`;
  const rotated = { ENCRYPTION_KEYS: `${sys.env['ENCRYPTION_KEYS']},${k2}`, ENCRYPTION_ACTIVE_KEY_ID: 'k2' };
  step('key rotation: token-broker and provider-registry restarted with the new key active, then the worker');
  const oldBroker = broker(sys);
  sys.brokers[0] = await sys.startService('token-broker', rotated, 'token-broker-k2');
  await oldBroker.stop();
  const oldRegistry = sys.others[0];
  sys.others[0] = await sys.startService('provider-registry', rotated, 'provider-registry-k2');
  await oldRegistry.stop();
  const [{ due }] = await q<{ due: number }>(
    `SELECT count(*)::int AS due FROM tokens.credentials WHERE key_id <> 'k2'`,
  );
  await worker(sys).stop();
  const rotStart = Date.now();
  sys.others[1] = await sys.startService('worker', rotated, 'worker-k2');
  let rotationDone = false;
  const duringRotation = acquireLoop(bus, sys.adminToken, hot, () => rotationDone);
  let status = '';
  for (const deadline = Date.now() + 1_800_000; ; ) {
    const [j] = await q<{ status: string }>(
      `SELECT status FROM registry.jobs WHERE type = 'ROTATE_KEYS' ORDER BY created_at DESC LIMIT 1`,
    );
    const [{ left }] = await q<{ left: number }>(
      `SELECT count(*)::int AS left FROM tokens.credentials WHERE key_id <> 'k2'`,
    );
    status = j?.status ?? 'none';
    if ((status === 'COMPLETED' || status === 'ERROR') && left === 0) break;
    if (status === 'ERROR' || Date.now() > deadline) break;
    await sleep(1_000);
  }
  rotationDone = true;
  const rot = await duringRotation;
  const rotS = (Date.now() - rotStart) / 1000;
  const idleP99 = percentile(idle.lat, 99);
  const rotP99 = percentile(rot.lat, 99);
  row(
    'key rotation',
    `${due} token sets (and every secret) re-wrapped in ${rotS.toFixed(0)} s (${status}), paced at ${ROTATION_RPS} rows/s`,
  );
  row(
    'acquire during rotation',
    `p50 ${ms(percentile(rot.lat, 50))}, p99 ${ms(rotP99)} (idle: p50 ${ms(percentile(idle.lat, 50))}, p99 ${ms(idleP99)}; ratio ${(rotP99 / idleP99).toFixed(2)}), ${rot.errors} errors`,
  );
}
