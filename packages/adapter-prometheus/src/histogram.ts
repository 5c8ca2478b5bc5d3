/**
 * A lean Prometheus histogram for the request hot path, exposed through prom-client's Registry.
 *
 * Why not prom-client's `Histogram`: its labelled child allocates a label object and builds a hash string on every
 * `observe` (~0.5 µs each; a request observes five of them). Here a child is a plain object with a Float64Array of
 * bucket counts, resolved once per tenant and label set, so an observation is a few comparisons and three
 * additions with no allocation. The registry reads it through the same `get()` shape as its own metrics (what
 * `Registry.getMetricsAsString`, `getMetricsAsJSON` and `resetMetrics` use).
 */

/** One exposed sample, in the shape prom-client's Registry formats. */
export interface HistogramSample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** One label set of a {@link LeanHistogram}: observations in milliseconds, exposed in seconds. */
export class HistogramChild {
  /** Non-cumulative counts per bucket; the last slot counts values above the highest bound (+Inf only). */
  readonly counts: Float64Array;
  /** Sum of the observed values, ms. */
  sumMs = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly boundsMs: Float64Array,
  ) {
    this.counts = new Float64Array(boundsMs.length + 1);
  }

  /** Records one duration in milliseconds (negative or NaN counts as 0: clocks of two threads may disagree). */
  observeMs(ms: number): void {
    // biome-ignore lint/complexity/useMathMinMax: Math.max(NaN, 0) is NaN; this maps NaN to 0 as well.
    const v = ms > 0 ? ms : 0;
    const bounds = this.boundsMs;
    let i = 0;
    while (i < bounds.length && v > bounds[i]!) i++;
    this.counts[i]!++;
    this.sumMs += v;
    this.count++;
  }
}

/** A histogram in seconds whose label sets are {@link HistogramChild} objects created on demand. */
export class LeanHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #boundsMs: Float64Array;
  readonly #children = new Map<string, HistogramChild>();

  /**
   * @param name metric name
   * @param help help text
   * @param labelNames names of the labels, in the order `child()` takes their values
   * @param buckets upper bounds in seconds, ascending
   * @param beforeCollect called at the start of every scrape of this metric
   */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
    private readonly beforeCollect: () => void = () => {},
  ) {
    this.#boundsMs = Float64Array.from(buckets, (s) => s * 1000);
  }

  /**
   * The child of one label set (created on first use; callers keep it, so this is not on the hot path). A label
   * whose value is left out (fewer values than labels) is not written for that set: e.g. the device of a CPU stage.
   */
  child(...values: string[]): HistogramChild {
    const key = values.join('\u0000');
    let c = this.#children.get(key);
    if (c === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => {
        if (values[i] !== undefined) labels[n] = values[i];
      });
      c = new HistogramChild(labels, this.#boundsMs);
      this.#children.set(key, c);
    }
    return c;
  }

  /** Drops every label set whose label `name` has value `value` (a removed tenant). */
  removeWhere(name: string, value: string): void {
    for (const [key, c] of this.#children) if (c.labels[name] === value) this.#children.delete(key);
  }

  /** Drops every label set. */
  reset(): void {
    this.#children.clear();
  }

  /** The registry's view: cumulative buckets, +Inf, sum (seconds) and count per label set. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: HistogramSample[];
    aggregator: 'sum';
  }> {
    this.beforeCollect();
    const values: HistogramSample[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const c of this.#children.values()) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += c.counts[i]!;
        values.push({ metricName: bucketName, labels: { ...c.labels, le: this.buckets[i]! }, value: acc });
      }
      values.push({ metricName: bucketName, labels: { ...c.labels, le: '+Inf' }, value: c.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...c.labels }, value: c.sumMs / 1000 });
      values.push({ metricName: `${this.name}_count`, labels: { ...c.labels }, value: c.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
