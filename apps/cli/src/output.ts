/**
 * Where commands write. Human output goes to stdout as text; `--json` output is one JSON document on
 * stdout and nothing else, so it can be piped to jq. Progress and warnings go to stderr.
 */

/** Sink for a command's results; swapped for a buffer in tests. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout/stderr. */
export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Formats a byte count as B / KiB / MiB with one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
}

/** Formats a count with thousands separators. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Formats a table with left-aligned text columns and right-aligned numeric columns. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatCount(c) : c)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** One line on the Edge-TPU-mappable prefix of a model of `n` compute ops. */
export function describePrefix(
  prefix: { length: number; firstUnmappableOp?: number; reason?: string },
  n: number,
): string {
  if (prefix.length === n) return `all ${n} ops can map`;
  const why = prefix.reason ? ` (${prefix.reason})` : '';
  if (prefix.length === 0)
    return `no op can map: op ${prefix.firstUnmappableOp} and everything after it run on the CPU${why}`;
  return `ops [0,${prefix.length}) can map; op ${prefix.firstUnmappableOp} and everything after it run on the CPU${why}`;
}
