/**
 * The conformance kit for latency models: a fixed set of systems and checks every {@link LatencyModel} must
 * pass, exported for plugin authors (`@swapless/queueing/conformance`, also re-exported from the package root).
 * It talks to a model only through its public interface (`name`, `predict`, `fit`) and imports nothing from
 * this package's implementation, so a model passes or fails for what it does, not for how it is built.
 */

import type {
  FitObservation,
  LatencyModel,
  Prediction,
  SystemSetup,
  TenantPrediction,
  TenantSetup,
} from '@swapless/contracts';
import { InvalidArgumentError } from '@swapless/core';

/** One check's outcome. */
export interface ConformanceCheck {
  /** Stable check name: `shape`, `components`, `determinism`, `monotonicity-load`, `monotonicity-single-token`, `instability`, `errors`, `fit`. */
  readonly name: string;
  readonly passed: boolean;
  /** True when the check did not apply (e.g. `fit` on a model without `fit`); a skipped check passes. */
  readonly skipped?: boolean;
  /** What went wrong, one line each (empty when passed). */
  readonly failures: readonly string[];
}

/** What {@link checkLatencyModel} found. */
export interface ConformanceReport {
  /** The model's `name` (or a description of it when it has none). */
  readonly model: string;
  /** True when every check passed. */
  readonly passed: boolean;
  readonly checks: readonly ConformanceCheck[];
}

/** Options of {@link checkLatencyModel}. */
export interface ConformanceOptions {
  /** Extra stable systems to run the shape, determinism and monotonicity checks on, after the kit's own. */
  systems?: readonly SystemSetup[];
  /** Relative tolerance of the numeric comparisons (default 1e-9). */
  tolerance?: number;
  /**
   * Run only these checks (by {@link ConformanceCheck.name}); the others are left out of the report. The host
   * runs `['shape', 'components']` on every plugin it loads ({@link QUICK_CONFORMANCE_CHECKS}).
   */
  only?: readonly string[];
}

/** The checks a host runs on every latency model it loads: cheap (a dozen predictions) and catching NaN, negative
 * or infinite times without a reason, and stages that do not add up. */
export const QUICK_CONFORMANCE_CHECKS = ['shape', 'components'] as const;

/** A system of the kit, with the tenants that must come out unstable (and at which stage). */
export interface ConformanceSystem {
  readonly label: string;
  readonly system: SystemSetup;
  /** Tenant name → stage that must be reported unstable; empty for a stable system. */
  readonly unstable: Readonly<Record<string, 'tpu' | 'cpu'>>;
}

const tpu = (token: string, serviceMs: number, reloadMs: number, serviceVarianceMs2 = 0) => ({
  token,
  serviceMs,
  serviceVarianceMs2,
  reloadMs,
  source: 'emulated' as const,
});
const cpu = (mode: 'mg1' | 'mgc', samplesMs: number[]) => ({ mode, samplesMs, source: 'measured' as const });
const tenant = (t: Omit<TenantSetup, 'n'> & { n?: number }): TenantSetup => ({ n: 20, ...t });

/**
 * The kit's systems, fresh copies each call: three stable ones (one tenant; two tokens with an M/G/c stage
 * and a CPU-only tenant; a co-compiled pair plus a TPU-only tenant) and three unstable ones (Edge TPU
 * overloaded by service alone, one CPU stage overloaded, a CPU stage with 0 cores).
 */
export function conformanceSystems(): ConformanceSystem[] {
  return [
    {
      label: 'single tenant',
      unstable: {},
      system: {
        cores: 2,
        tenants: [
          tenant({
            name: 'solo',
            rate: 50,
            k: 10,
            cores: 2,
            tpu: tpu('a', 4, 0, 0.1),
            cpu: cpu('mg1', [3, 3.5, 4, 5, 3.2]),
          }),
        ],
      },
    },
    {
      label: 'two tokens, M/G/c stage, CPU-only tenant',
      unstable: {},
      system: {
        cores: 4,
        device: 'usb3',
        tenants: [
          tenant({
            name: 'a',
            rate: 40,
            k: 8,
            cores: 2,
            tpu: tpu('ta', 3, 6, 0.2),
            cpu: cpu('mgc', [5, 6, 7, 8]),
          }),
          tenant({ name: 'b', rate: 15, k: 12, cores: 1, tpu: tpu('tb', 5, 12), cpu: cpu('mg1', [2, 2.5]) }),
          tenant({ name: 'c', rate: 10, k: 0, cores: 1, tpu: null, cpu: cpu('mg1', [10, 12]) }),
        ],
      },
    },
    {
      label: 'co-compiled pair and a TPU-only tenant',
      unstable: {},
      system: {
        cores: 2,
        tenants: [
          tenant({ name: 'x', rate: 30, k: 5, cores: 1, tpu: tpu('xy', 2, 8), cpu: cpu('mg1', [1, 2, 3]) }),
          tenant({ name: 'y', rate: 20, k: 7, cores: 1, tpu: tpu('xy', 3, 8, 0.5), cpu: cpu('mg1', [4]) }),
          tenant({ name: 'z', rate: 5, k: 20, cores: 0, tpu: tpu('z', 6, 20), cpu: null }),
        ],
      },
    },
    {
      label: 'Edge TPU overloaded',
      unstable: { p: 'tpu', q: 'tpu' },
      system: {
        cores: 2,
        tenants: [
          tenant({ name: 'p', rate: 200, k: 5, cores: 1, tpu: tpu('tp', 3, 1), cpu: cpu('mg1', [1]) }),
          tenant({ name: 'q', rate: 200, k: 5, cores: 1, tpu: tpu('tq', 3, 1), cpu: cpu('mg1', [1]) }),
        ],
      },
    },
    {
      label: 'one CPU stage overloaded',
      unstable: { hot: 'cpu' },
      system: {
        cores: 2,
        tenants: [
          tenant({ name: 'hot', rate: 50, k: 5, cores: 1, tpu: tpu('h', 1, 2), cpu: cpu('mg1', [30, 30]) }),
          tenant({ name: 'cool', rate: 5, k: 5, cores: 1, tpu: tpu('c', 1, 2), cpu: cpu('mg1', [2]) }),
        ],
      },
    },
    {
      label: 'CPU stage with 0 cores',
      unstable: { starved: 'cpu' },
      system: {
        cores: 1,
        tenants: [
          tenant({ name: 'starved', rate: 5, k: 5, cores: 0, tpu: tpu('s', 1, 0), cpu: cpu('mg1', [2]) }),
        ],
      },
    },
  ];
}

/** Malformed systems every model must refuse with a SwapLess error. */
function malformedSystems(): { label: string; value: unknown }[] {
  const good = (): { cores: number; tenants: Record<string, unknown>[] } =>
    JSON.parse(JSON.stringify(conformanceSystems()[1]!.system));
  const edit = (label: string, f: (s: { cores: number; tenants: Record<string, unknown>[] }) => void) => {
    const s = good();
    f(s);
    return { label, value: s };
  };
  return [
    { label: 'null', value: null },
    { label: 'undefined', value: undefined },
    { label: 'a string', value: 'system' },
    { label: 'no tenants field', value: { cores: 1 } },
    { label: 'empty tenants', value: { cores: 1, tenants: [] } },
    edit('negative rate', (s) => {
      s.tenants[0]!.rate = -1;
    }),
    edit('NaN rate', (s) => {
      s.tenants[0]!.rate = Number.NaN;
    }),
    edit('infinite rate', (s) => {
      s.tenants[0]!.rate = Infinity;
    }),
    edit('rate as a string', (s) => {
      s.tenants[0]!.rate = '40';
    }),
    edit('empty CPU samples', (s) => {
      (s.tenants[0]!.cpu as { samplesMs: number[] }).samplesMs = [];
    }),
    edit('NaN CPU sample', (s) => {
      (s.tenants[0]!.cpu as { samplesMs: number[] }).samplesMs = [1, Number.NaN];
    }),
    edit('negative TPU service time', (s) => {
      (s.tenants[0]!.tpu as { serviceMs: number }).serviceMs = -2;
    }),
    edit('unknown CPU mode', (s) => {
      (s.tenants[0]!.cpu as { mode: string }).mode = 'mm9';
    }),
    edit('negative cores', (s) => {
      s.tenants[1]!.cores = -1;
    }),
    edit('cores above the system total', (s) => {
      s.cores = 2;
    }),
    edit('duplicate tenant names', (s) => {
      s.tenants[1]!.name = s.tenants[0]!.name;
    }),
    edit('cut beyond n', (s) => {
      s.tenants[0]!.k = 99;
    }),
    edit('tenant is null', (s) => {
      (s.tenants as unknown[])[2] = null;
    }),
  ];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const clone = <T>(v: T): T => structuredClone(v);
const msg = (err: unknown): string =>
  err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : `non-error ${String(err)}`;
const isNum = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);
const NUMBER_FIELDS = [
  'responseMs',
  'tpuWaitMs',
  'tpuServiceMs',
  'cpuWaitMs',
  'cpuServiceMs',
  'tpuUtilization',
  'cpuUtilization',
  'switchProbability',
] as const;

function shapeProblems(model: LatencyModel, system: SystemSetup, p: unknown, label: string): string[] {
  const out: string[] = [];
  const at = (s: string) => out.push(`${label}: ${s}`);
  if (typeof p !== 'object' || p === null) {
    at(`predict returned ${String(p)}, not a Prediction`);
    return out;
  }
  const pred = p as Prediction;
  if (pred.model !== model.name)
    at(`prediction.model ${JSON.stringify(pred.model)} ≠ model.name ${JSON.stringify(model.name)}`);
  if (!Array.isArray(pred.tenants) || pred.tenants.length !== system.tenants.length) {
    at(
      `expected ${system.tenants.length} tenant predictions, received ${Array.isArray(pred.tenants) ? pred.tenants.length : typeof pred.tenants}`,
    );
    return out;
  }
  pred.tenants.forEach((t: TenantPrediction, i) => {
    const name = system.tenants[i]!.name;
    if (t?.name !== name)
      at(
        `tenants[${i}].name ${JSON.stringify(t?.name)} ≠ ${JSON.stringify(name)} (same order as the system)`,
      );
    for (const f of NUMBER_FIELDS) {
      const v = t?.[f];
      if (!isNum(v) || v < 0) at(`${name}.${f} = ${String(v)}: expected a number ≥ 0, never NaN`);
      else if (v === Infinity && t.unstable === undefined && f !== 'tpuUtilization')
        at(`${name}.${f} is Infinity but the tenant has no 'unstable' reason`);
    }
    if (isNum(t?.switchProbability) && t.switchProbability > 1)
      at(`${name}.switchProbability ${t.switchProbability} > 1`);
    if (t?.unstable !== undefined) {
      const u = t.unstable;
      if (t.responseMs !== Infinity)
        at(`${name} is marked unstable but responseMs = ${t.responseMs}, not Infinity`);
      if (u.stage !== 'tpu' && u.stage !== 'cpu')
        at(`${name}.unstable.stage ${JSON.stringify(u.stage)} is not 'tpu' or 'cpu'`);
      if (!isNum(u.utilization) || u.utilization < 1)
        at(`${name}.unstable.utilization ${String(u.utilization)} is not ≥ 1`);
      if (typeof u.reason !== 'string' || u.reason.trim() === '') at(`${name}.unstable.reason is empty`);
    } else if (t?.responseMs === Infinity) {
      at(`${name}.responseMs is Infinity without an 'unstable' reason`);
    }
  });
  const anyUnstable = pred.tenants.some((t) => t?.unstable !== undefined);
  if (pred.stable !== !anyUnstable)
    at(
      `prediction.stable = ${String(pred.stable)} but ${anyUnstable ? 'a tenant is' : 'no tenant is'} unstable`,
    );
  if (!isNum(pred.meanResponseMs) || pred.meanResponseMs < 0)
    at(`meanResponseMs = ${String(pred.meanResponseMs)}: expected a number ≥ 0`);
  else if (anyUnstable && pred.meanResponseMs !== Infinity)
    at(`meanResponseMs = ${pred.meanResponseMs} but a tenant is unstable (expected Infinity)`);
  else if (!anyUnstable && pred.meanResponseMs === Infinity)
    at('meanResponseMs is Infinity but every tenant is stable');
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a)
    .filter((k) => (a as Record<string, unknown>)[k] !== undefined)
    .sort();
  const kb = Object.keys(b)
    .filter((k) => (b as Record<string, unknown>)[k] !== undefined)
    .sort();
  if (ka.join('\u0000') !== kb.join('\u0000')) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const withRates = (s: SystemSetup, rate: (t: TenantSetup, i: number) => number): SystemSetup => ({
  ...s,
  tenants: s.tenants.map((t, i) => ({ ...t, rate: rate(t, i) })),
});

/**
 * Runs every check of the kit against `model` and returns the report (it never throws for a failing model;
 * use {@link assertLatencyModel} in tests). Pass a fresh instance: the `fit` check, run last, calls `fit`.
 *
 * - `shape` — every tenant predicted, in order, names matching; every number ≥ 0 and not NaN; Infinity only
 *   with `unstable` set ({stage, utilization ≥ 1, reason}); `stable` and `meanResponseMs` consistent.
 * - `components` — for stable tenants, responseMs = tpuWait + tpuService + cpuWait + cpuService.
 * - `determinism` — the same input (deep-frozen, so a model that mutates its input fails too) twice gives
 *   identical predictions.
 * - `monotonicity-load` — scaling every rate by the same factor > 1 never lowers a tenant's responseMs.
 *   Raising *one* tenant's rate is not required to be monotone: with token switching, a tenant whose share of
 *   the Edge TPU grows follows itself more often and reloads less, which can truly lower its response
 *   (docs/queueing.md); with the mix fixed, only load changes.
 * - `monotonicity-single-token` — with every Edge TPU stage given the same caching token (no reloads),
 *   raising any one rate never lowers any tenant's responseMs.
 * - `instability` — the kit's saturated systems give Infinity with a reason at the right stage.
 * - `errors` — malformed systems throw a SwapLess error (a `code` starting with `SWAPLESS_`), never a
 *   TypeError or a result.
 * - `fit` — only when the model has `fit`: `fit([])` and `fit(plausible observations)` do not throw and the
 *   model still passes `shape` afterwards.
 */
export function checkLatencyModel(model: LatencyModel, options: ConformanceOptions = {}): ConformanceReport {
  const modelName =
    typeof model === 'object' && model !== null && typeof model.name === 'string'
      ? model.name
      : String(model);
  const checks: ConformanceCheck[] = [];
  const check = (name: string, run: () => string[] | 'skip') => {
    if (options.only !== undefined && !options.only.includes(name)) return;
    let failures: string[];
    let skipped = false;
    try {
      const r = run();
      skipped = r === 'skip';
      failures = r === 'skip' ? [] : r;
    } catch (err) {
      failures = [`the check itself failed: ${msg(err)}`];
    }
    checks.push(
      skipped
        ? { name, passed: true, skipped: true, failures }
        : { name, passed: failures.length === 0, failures },
    );
  };
  if (
    typeof model !== 'object' ||
    model === null ||
    typeof model.predict !== 'function' ||
    typeof model.name !== 'string'
  ) {
    checks.push({
      name: 'shape',
      passed: false,
      failures: ['not a LatencyModel: needs a string name and a predict function'],
    });
    return { model: modelName, passed: false, checks };
  }

  const kit = conformanceSystems();
  const ctx: CheckContext = {
    model,
    tol: options.tolerance ?? 1e-9,
    kit,
    stable: [
      ...kit
        .filter((k) => Object.keys(k.unstable).length === 0)
        .map((k) => ({ label: k.label, system: k.system })),
      ...(options.systems ?? []).map((system, i) => ({ label: `options.systems[${i}]`, system })),
    ],
    predict: (system, label) => {
      try {
        return { p: model.predict(deepFreeze(clone(system))) };
      } catch (err) {
        return { error: `${label}: predict threw ${msg(err)}` };
      }
    },
    cache: new Map(),
  };
  // `shape` runs first: it keeps the predictions that `components` and `instability` read.
  check('shape', () => checkShape(ctx));
  check('components', () => checkComponents(ctx));
  check('determinism', () => checkDeterminism(ctx));
  check('monotonicity-load', () => checkMonotoneLoad(ctx));
  check('monotonicity-single-token', () => checkMonotoneSingleToken(ctx));
  check('instability', () => checkInstability(ctx));
  check('errors', () => checkErrors(model));
  check('fit', () => checkFit(ctx));
  return { model: modelName, passed: checks.every((c) => c.passed), checks };
}

/** What the checks of {@link checkLatencyModel} share. */
interface CheckContext {
  readonly model: LatencyModel;
  /** Relative tolerance of the numeric comparisons. */
  readonly tol: number;
  readonly kit: readonly ConformanceSystem[];
  /** The kit's stable systems, then the caller's. */
  readonly stable: readonly { label: string; system: SystemSetup }[];
  /** The model's prediction of a deep-frozen copy of `system`, or what it threw (prefixed with `label`). */
  predict(system: SystemSetup, label: string): { p?: Prediction; error?: string };
  /** The `shape` check's predictions by system label. */
  readonly cache: Map<string, Prediction>;
}

const unstableSystems = (kit: readonly ConformanceSystem[]) =>
  kit.filter((k) => Object.keys(k.unstable).length > 0);

function checkShape({ model, kit, stable, predict, cache }: CheckContext): string[] {
  const out: string[] = [];
  for (const { label, system } of [...stable, ...unstableSystems(kit)]) {
    const r = predict(system, label);
    if (r.error) out.push(r.error);
    else {
      out.push(...shapeProblems(model, system, r.p, label));
      cache.set(label, r.p!);
    }
  }
  return out;
}

function checkComponents({ tol, stable, cache }: CheckContext): string[] {
  const out: string[] = [];
  for (const { label } of stable) {
    const p = cache.get(label);
    if (!p?.tenants) continue;
    for (const t of p.tenants) {
      if (t.unstable) continue;
      const sum = t.tpuWaitMs + t.tpuServiceMs + t.cpuWaitMs + t.cpuServiceMs;
      if (!(Math.abs(sum - t.responseMs) <= tol * Math.max(1, Math.abs(sum))))
        out.push(`${label}: ${t.name}.responseMs ${t.responseMs} ≠ sum of its stages ${sum}`);
    }
  }
  return out;
}

function checkDeterminism({ stable, predict }: CheckContext): string[] {
  const out: string[] = [];
  for (const { label, system } of stable) {
    const a = predict(system, label);
    const b = predict(clone(system), label);
    if (a.error || b.error) out.push((a.error ?? b.error)!);
    else if (!sameValue(a.p, b.p)) out.push(`${label}: two predictions of the same system differ`);
  }
  return out;
}

/** Adds a failure to `out` for every stable tenant of `before` whose responseMs `after` lowers. */
function monotone(
  tol: number,
  label: string,
  before: Prediction,
  after: Prediction,
  what: string,
  out: string[],
): void {
  before.tenants.forEach((t, i) => {
    const u = after.tenants[i];
    if (!u || t.unstable) return;
    if (u.responseMs < t.responseMs * (1 - tol) - 1e-12)
      out.push(`${label}: ${what} lowered ${t.name}.responseMs from ${t.responseMs} to ${u.responseMs}`);
  });
}

function checkMonotoneLoad({ tol, stable, predict }: CheckContext): string[] {
  const out: string[] = [];
  for (const { label, system } of stable) {
    let prev = predict(system, label);
    for (const f of [1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10]) {
      const next = predict(
        withRates(system, (t) => t.rate * f),
        `${label} ×${f}`,
      );
      if (prev.error || next.error) {
        out.push((prev.error ?? next.error)!);
        break;
      }
      monotone(tol, label, prev.p!, next.p!, `scaling every rate to ×${f}`, out);
      prev = next;
    }
  }
  return out;
}

function checkMonotoneSingleToken({ tol, stable, predict }: CheckContext): string[] {
  const out: string[] = [];
  for (const { label, system } of stable) {
    const one: SystemSetup = {
      ...system,
      tenants: system.tenants.map((t) => ({
        ...t,
        tpu: t.tpu && { ...t.tpu, token: 'conformance-shared' },
      })),
    };
    const base = predict(one, `${label} (one token)`);
    if (base.error) {
      out.push(base.error);
      continue;
    }
    one.tenants.forEach((t, j) => {
      for (const f of [1.2, 2, 4]) {
        const raised = predict(
          withRates(one, (u, i) => (i === j ? u.rate * f : u.rate)),
          `${label} (one token)`,
        );
        if (raised.error) out.push(raised.error);
        else monotone(tol, `${label} (one token)`, base.p!, raised.p!, `raising ${t.name}'s rate ×${f}`, out);
      }
    });
  }
  return out;
}

function checkInstability({ kit, cache }: CheckContext): string[] {
  const out: string[] = [];
  for (const k of unstableSystems(kit)) {
    const p = cache.get(k.label);
    if (!p) {
      out.push(`${k.label}: no prediction (see shape)`);
      continue;
    }
    if (p.stable !== false) out.push(`${k.label}: stable is ${String(p.stable)}, expected false`);
    if (p.meanResponseMs !== Infinity)
      out.push(`${k.label}: meanResponseMs ${p.meanResponseMs}, expected Infinity`);
    for (const [name, stage] of Object.entries(k.unstable)) {
      const t = p.tenants?.find((x) => x?.name === name);
      if (!t) out.push(`${k.label}: tenant ${name} missing`);
      else if (t.responseMs !== Infinity || t.unstable?.stage !== stage)
        out.push(
          `${k.label}: ${name} should be unstable at the ${stage} stage, got responseMs ${t.responseMs}, unstable ${JSON.stringify(t.unstable)}`,
        );
    }
  }
  return out;
}

function checkErrors(model: LatencyModel): string[] {
  const out: string[] = [];
  for (const { label, value } of malformedSystems()) {
    try {
      const r = model.predict(value as SystemSetup);
      out.push(`${label}: predict returned ${typeof r} instead of throwing`);
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      if (typeof code !== 'string' || !code.startsWith('SWAPLESS_'))
        out.push(`${label}: threw ${msg(err)} without a SWAPLESS_ code`);
    }
  }
  return out;
}

function checkFit({ model, kit, predict }: CheckContext): string[] | 'skip' {
  if (typeof model.fit !== 'function') return 'skip';
  const out: string[] = [];
  const k = kit[1]!;
  const observations: FitObservation[] = k.system.tenants.map((t) => {
    const o: FitObservation = { tenant: t.name, k: t.k, cores: t.cores, rate: t.rate, count: 500 };
    if (t.tpu) {
      o.tpuWaitMs = 2;
      o.tpuServiceMs = t.tpu.serviceMs + t.tpu.reloadMs / 2;
      o.reloadFraction = 0.5;
    }
    if (t.cpu) {
      o.cpuWaitMs = 1;
      o.cpuServiceMs = t.cpu.samplesMs[0]!;
    }
    return o;
  });
  for (const [what, obs] of [
    ['fit([])', []],
    ['fit(observations)', observations],
  ] as const) {
    try {
      model.fit(deepFreeze(clone(obs)) as FitObservation[]);
    } catch (err) {
      out.push(`${what} threw ${msg(err)}`);
    }
  }
  const r = predict(k.system, `${k.label} after fit`);
  if (r.error) out.push(r.error);
  else out.push(...shapeProblems(model, k.system, r.p, `${k.label} after fit`));
  return out;
}

/**
 * {@link checkLatencyModel}, throwing when any check fails: an {@link InvalidArgumentError}
 * (`SWAPLESS_INVALID_ARGUMENT`) whose message lists every failure and whose `details.report` is the report.
 * For plugin test suites: `it('conforms', () => { assertLatencyModel(createMyModel({})); })`.
 */
export function assertLatencyModel(model: LatencyModel, options: ConformanceOptions = {}): ConformanceReport {
  const report = checkLatencyModel(model, options);
  if (!report.passed) {
    const lines = report.checks.flatMap((c) => c.failures.map((f) => `[${c.name}] ${f}`));
    throw new InvalidArgumentError(
      `Expected a latency model that passes the conformance kit for ${report.model} but received one failing ${lines.length} check${lines.length === 1 ? '' : 's'}:\n  ${lines.join('\n  ')}`,
      { details: { report } },
    );
  }
  return report;
}
