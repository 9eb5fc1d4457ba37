/**
 * Settles like `p`, or rejects with Error('timeout') after `ms` (the timer is cleared either way, so
 * a settled wait keeps no handle open). The one timeout wrapper of the services: readiness checks,
 * the worker's database watch.
 */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
