/** Test helpers: a Prometheus text-format parser and expected histogram values. Not exported by the package. */

/** One sample line of the exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text format 0.0.4 sample lines (comments skipped; label values unescaped). */
export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`Unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const raw = m[3]!;
    const value = raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

/** Samples of `name` whose labels include every entry of `labels`. */
export function find(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The single sample of `name` with exactly these labels (throws when absent or ambiguous). */
export function one(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length !== 1) {
    throw new Error(`Expected one sample ${name}${JSON.stringify(labels)} but found ${hits.length}`);
  }
  return hits[0]!.value;
}

/** Expected histogram: cumulative counts per bound (seconds), sum (seconds) and count, from durations in ms. */
export function expectedHistogram(
  durationsMs: readonly number[],
  buckets: readonly number[],
): { buckets: Map<string, number>; sum: number; count: number } {
  const out = new Map<string, number>();
  for (const b of buckets) {
    out.set(String(b), durationsMs.filter((ms) => Math.max(0, ms) <= b * 1000).length);
  }
  out.set('+Inf', durationsMs.length);
  const sum = durationsMs.reduce((a, ms) => a + Math.max(0, ms), 0) / 1000;
  return { buckets: out, sum, count: durationsMs.length };
}
