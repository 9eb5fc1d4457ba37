import { TokensError } from '../tokens-error';

/** Waits `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The promise's outcome, or UNAVAILABLE once `deadline` (epoch ms) has passed. */
export function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  const ms = deadline - Date.now();
  if (ms <= 0) return Promise.reject(new TokensError('UNAVAILABLE', 'no token in time; try again'));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TokensError('UNAVAILABLE', 'no token in time; try again')), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}
