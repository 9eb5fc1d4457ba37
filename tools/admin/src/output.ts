import type { Output } from './command';

/** Output to the process's stdout (results) and stderr (notes). */
export function processOutput(json: boolean): Output {
  return {
    json,
    print: (text) => process.stdout.write(`${text}\n`),
    note: (text) => process.stderr.write(`${text}\n`),
  };
}

/** A plain-text table: a header row and aligned columns. */
export function table(headers: string[], rows: string[][]): string {
  if (!rows.length) return '(none)';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** A listing: with --json the records (each through `json`) as indented JSON, else a table of a row each. */
export function printListing<T>(
  out: Output,
  records: T[],
  headers: string[],
  row: (record: T) => string[],
  json: (record: T) => unknown = (record) => record,
): void {
  out.print(out.json ? JSON.stringify(records.map(json), null, 2) : table(headers, records.map(row)));
}

/** `key: value` lines, keys aligned. */
export function details(fields: [string, string | number][]): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n');
}

export const status = (disabled: boolean) => (disabled ? 'disabled' : 'active');
export const date = (d: Date | null | undefined) => (d ? d.toISOString() : '-');
