/**
 * Choosing (cut, cores, mode) for every tenant under a latency model, with Σ cores ≤ the cores available:
 * exhaustive when the space is small, coordinate descent from several starts when it is not.
 */
import type { Prediction, SystemSetup, TenantChoice } from '@swapless/contracts';
import { expected, InvalidArgumentError } from '@swapless/core';
import type { TenantCatalog } from './catalog.js';
import { type PlannedTenant, systemSetup, tenantChoices } from './setup.js';

/** What the search needs of a latency model. */
export interface Predictor {
  readonly name: string;
  predict(system: SystemSetup): Prediction;
}

/** Result of a search. */
export interface SearchResult {
  choices: TenantChoice[];
  prediction: Prediction;
  /** How the optimum was found. */
  method: 'exhaustive' | 'coordinate-descent';
  /** Configurations evaluated by the model. */
  evaluated: number;
}

/** Options of {@link searchConfiguration}. */
export interface SearchOptions {
  /** Spaces up to this many configurations are searched exhaustively (default 200,000). */
  exhaustiveLimit?: number;
  /** Starting points for coordinate descent besides the built-in ones. */
  starts?: TenantChoice[][];
  /** Also start coordinate descent from the baselines (default, fixed, cpu); default true. */
  baselineStarts?: boolean;
  device?: string;
}

function objective(p: Prediction): number {
  return Number.isFinite(p.meanResponseMs) ? p.meanResponseMs : Number.POSITIVE_INFINITY;
}

/**
 * Finds the configuration with the lowest predicted λ-weighted mean response time. Unstable configurations
 * are infinitely bad; when every configuration is unstable the least bad by total utilisation is not
 * invented: the result's prediction says `stable: false`.
 */
export function searchConfiguration(
  tenants: readonly PlannedTenant[],
  cores: number,
  model: Predictor,
  options: SearchOptions = {},
): SearchResult {
  if (tenants.length === 0)
    throw new InvalidArgumentError(expected('at least one tenant', 'searchConfiguration', 0));
  if (!Number.isInteger(cores) || cores < 0)
    throw new InvalidArgumentError(expected('a whole number of cores ≥ 0', 'searchConfiguration', cores));
  const options_ = tenants.map((t) => tenantChoices(t.catalog, cores));
  const space = options_.reduce((s, o) => s * o.length, 1);
  let evaluated = 0;
  const evaluate = (choices: TenantChoice[]): Prediction => {
    evaluated++;
    return model.predict(systemSetup(tenants, choices, cores, options.device));
  };

  if (space <= (options.exhaustiveLimit ?? 200_000)) {
    let best: { choices: TenantChoice[]; prediction: Prediction } | null = null;
    const current: TenantChoice[] = [];
    const walk = (i: number, left: number): void => {
      if (i === tenants.length) {
        const p = evaluate(current);
        if (best === null || objective(p) < objective(best.prediction))
          best = { choices: [...current], prediction: p };
        return;
      }
      for (const c of options_[i]!) {
        if (c.cores > left) continue;
        current.push(c);
        walk(i + 1, left - c.cores);
        current.pop();
      }
    };
    walk(0, cores);
    if (best === null) {
      throw new InvalidArgumentError(
        expected(`enough cores for ${tenants.length} tenants`, 'searchConfiguration', cores),
      );
    }
    const b = best as { choices: TenantChoice[]; prediction: Prediction };
    return { choices: b.choices, prediction: b.prediction, method: 'exhaustive', evaluated };
  }

  // Coordinate descent: improve one tenant at a time with the others fixed, until no move helps.
  const starts = [
    ...(options.starts ?? []),
    ...(options.baselineStarts === false ? [] : defaultStarts(tenants, cores)),
  ];
  let best: { choices: TenantChoice[]; prediction: Prediction } | null = null;
  for (const start of starts) {
    const choices = [...start];
    let p = evaluate(choices);
    for (let round = 0; round < 50; round++) {
      let improved = false;
      for (let i = 0; i < tenants.length; i++) {
        const used = choices.reduce((s, c, j) => (j === i ? s : s + c.cores), 0);
        for (const c of options_[i]!) {
          if (
            c.cores > cores - used ||
            (c.k === choices[i]!.k && c.cores === choices[i]!.cores && c.mode === choices[i]!.mode)
          )
            continue;
          const trial = [...choices];
          trial[i] = c;
          const q = evaluate(trial);
          if (objective(q) < objective(p)) {
            choices[i] = c;
            p = q;
            improved = true;
          }
        }
      }
      if (!improved) break;
    }
    if (best === null || objective(p) < objective(best.prediction)) best = { choices, prediction: p };
  }
  const b = best as { choices: TenantChoice[]; prediction: Prediction };
  return { choices: b.choices, prediction: b.prediction, method: 'coordinate-descent', evaluated };
}

/** Splits `cores` as evenly as possible among `m` consumers (the first ones get the remainder). */
export function evenSplit(cores: number, m: number): number[] {
  return Array.from({ length: m }, (_, i) => Math.floor(cores / m) + (i < cores % m ? 1 : 0));
}

function defaultStarts(tenants: readonly PlannedTenant[], cores: number): TenantChoice[][] {
  const starts: TenantChoice[][] = [];
  for (const policy of ['default', 'fixed', 'cpu'] as const) {
    const s = baselineChoices(policy, tenants, cores);
    if (s !== null) starts.push(s);
  }
  return starts;
}

/** The catalogued cut nearest to `k` (a catalog has at least one cut). */
export function nearestCut(catalog: TenantCatalog, k: number): number {
  return catalog.cuts.reduce((b, c) => (Math.abs(c.k - k) < Math.abs(b.k - k) ? c : b)).k;
}

/** The baseline policies SwapLess is compared against. */
export type BaselinePolicy = 'default' | 'cpu' | 'fixed';

function choiceAt(t: PlannedTenant, k: number, cores: number): TenantChoice {
  const cut = t.catalog.cuts.find((c) => c.k === k)!;
  if (cut.cpu === null) return { k, cores: 0, mode: 'mg1' };
  const c = Math.max(1, cores);
  return { k, cores: c, mode: cut.cpu.has(c) ? 'mg1' : 'mgc' };
}

/**
 * The choices of a baseline, or null when it cannot run (e.g. CPU-only with fewer cores than tenants):
 * `default` = the whole Edge-TPU-mappable prefix on the TPU (what the default compiler does), the rest (if
 * any) on the CPU; `cpu` = everything on the CPU; `fixed` = the catalogued cut nearest half the MACs. CPU
 * cores are split evenly among the tenants that have a CPU stage.
 */
export function baselineChoices(
  policy: BaselinePolicy,
  tenants: readonly PlannedTenant[],
  cores: number,
): TenantChoice[] | null {
  const ks = tenants.map((t) => {
    const cat = t.catalog;
    // A compiled tenant has one cut (the whole model on the Edge TPU): every baseline leaves it there.
    if (policy === 'default') return nearestCut(cat, cat.edgetpuPrefix);
    if (policy === 'cpu') return nearestCut(cat, 0);
    const inner = cat.cuts.filter((c) => c.k > 0 && c.k < cat.edgetpuPrefix);
    if (inner.length === 0) return nearestCut(cat, cat.edgetpuPrefix);
    return inner.reduce((b, c) => (Math.abs(c.tpuMacsShare - 0.5) < Math.abs(b.tpuMacsShare - 0.5) ? c : b))
      .k;
  });
  const needCpu = tenants.map((t, i) => t.catalog.cuts.find((c) => c.k === ks[i])!.cpu !== null);
  const m = needCpu.filter(Boolean).length;
  if (m > cores) return null;
  const split = evenSplit(cores, m);
  let next = 0;
  return tenants.map((t, i) => choiceAt(t, ks[i]!, needCpu[i] ? split[next++]! : 0));
}
