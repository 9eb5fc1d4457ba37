/**
 * The benchmarks' settings (`BENCH_*` variables), read in one place. A value that is not a
 * non-negative number stops the run with the variable's name, instead of measuring with NaN.
 */
export function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name}: must be a non-negative number (got '${raw}')`);
  return value;
}

/** A text setting, or undefined when unset or empty. */
export function text(name: string): string | undefined {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}
