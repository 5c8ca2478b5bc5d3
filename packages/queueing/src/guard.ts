/**
 * The host's guard around a latency model it did not write: a quick run of the conformance kit when the model is
 * loaded, and a check of every prediction it returns afterwards. A plan, a bench or a controller decision is never
 * built on NaN, a negative time, an unexplained Infinity or stages that do not add up: the first such answer is an
 * {@link InvalidConfigError} (`SWAPLESS_INVALID_CONFIG`) naming the model, its package and its version.
 */
import { readFileSync } from 'node:fs';
import type { FitObservation, LatencyModel, Prediction, SystemSetup } from '@swapless/contracts';
import { describeValue, InvalidConfigError, isSwapLessError } from '@swapless/core';
import { checkLatencyModel, QUICK_CONFORMANCE_CHECKS } from './conformance.js';

/** Who a latency model is: what reports, plans and status outputs call it. */
export interface LatencyModelIdentity {
  /** The model's own name (`LatencyModel.name`, `Prediction.model`), e.g. `mg1-switchover`. */
  readonly id: string;
  /** The npm package it comes from (`@swapless/queueing` for the built-ins), or null when unknown. */
  readonly package: string | null;
  /** That package's version, or null when unknown. */
  readonly version: string | null;
}

/** `mg1-switchover (@swapless/latency-model-switchover@0.1.0)`: the one way outputs name a latency model. */
export function latencyModelLabel(identity: LatencyModelIdentity): string {
  if (identity.package === null) return `${identity.id} (built-in)`;
  return `${identity.id} (${identity.package}${identity.version === null ? '' : `@${identity.version}`})`;
}

let own: { name: string; version: string } | undefined;
/** Name and version of this package (`@swapless/queueing`), read once from its package.json. */
export function queueingPackage(): { name: string; version: string } {
  // src/ in development and dist/ once built are both one level below the package root.
  own ??= JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    name: string;
    version: string;
  };
  return own;
}

/** A model wrapped by {@link guardLatencyModel}. */
export interface GuardedLatencyModel extends LatencyModel {
  /** Who the model is. */
  readonly identity: LatencyModelIdentity;
  /** The model as its factory returned it (its own extra methods, e.g. fitted parameters, live there). */
  readonly inner: LatencyModel;
}

/** Options of {@link guardLatencyModel} and {@link predictionProblems}. */
export interface GuardOptions {
  /** Relative tolerance of "the stages add up to the response" (default 1e-6; plus 1e-9 ms absolute). */
  tolerance?: number;
}

const STAGES = ['tpuWaitMs', 'tpuServiceMs', 'cpuWaitMs', 'cpuServiceMs'] as const;
const NUMBERS = ['responseMs', ...STAGES, 'tpuUtilization', 'cpuUtilization', 'switchProbability'] as const;

/**
 * What is wrong with one prediction of `system`, one line each (empty when nothing is): a prediction for every
 * tenant in order; every time and utilisation a number ≥ 0 (never NaN); Infinity only for a tenant marked
 * `unstable`; a stable tenant's response equal to the sum of its four stages within the tolerance; the mean
 * response finite, ≥ 0 and between the tenants' when all are stable, Infinity when one is not.
 */
export function predictionProblems(
  system: SystemSetup,
  prediction: unknown,
  options: GuardOptions = {},
): string[] {
  const tol = options.tolerance ?? 1e-6;
  if (typeof prediction !== 'object' || prediction === null)
    return [`predict returned ${describeValue(prediction)}, not a Prediction`];
  const p = prediction as Prediction;
  if (!Array.isArray(p.tenants) || p.tenants.length !== system.tenants.length)
    return [
      `expected ${system.tenants.length} tenant predictions but received ${Array.isArray(p.tenants) ? p.tenants.length : describeValue(p.tenants)}`,
    ];
  const out: string[] = [];
  let anyUnstable = false;
  let lo = Infinity;
  let hi = -Infinity;
  p.tenants.forEach((t, i) => {
    const name = system.tenants[i]!.name;
    const at = `tenants[${i}] (${name})`;
    if (typeof t !== 'object' || t === null) {
      out.push(`${at} is ${describeValue(t)}`);
      return;
    }
    if (t.name !== name) out.push(`${at}.name is ${describeValue(t.name)}`);
    const unstable = t.unstable !== undefined && t.unstable !== null;
    anyUnstable ||= unstable;
    for (const f of NUMBERS) {
      const v = t[f] as unknown;
      if (typeof v !== 'number' || Number.isNaN(v) || v < 0)
        out.push(`${at}.${f} = ${describeValue(v)}: expected a number ≥ 0`);
      else if (v === Infinity && !unstable && f !== 'tpuUtilization')
        out.push(`${at}.${f} = Infinity without an 'unstable' reason`);
    }
    if (unstable) {
      if (t.responseMs !== Infinity)
        out.push(`${at} is marked unstable but responseMs = ${describeValue(t.responseMs)}`);
      return;
    }
    if (!Number.isFinite(t.responseMs)) return;
    lo = Math.min(lo, t.responseMs);
    hi = Math.max(hi, t.responseMs);
    const sum = STAGES.reduce((s, f) => s + (t[f] as number), 0);
    if (Number.isFinite(sum) && !(Math.abs(sum - t.responseMs) <= tol * Math.abs(sum) + 1e-9))
      out.push(`${at}.responseMs = ${t.responseMs} but its stages add up to ${sum}`);
  });
  const m = p.meanResponseMs as unknown;
  if (typeof m !== 'number' || Number.isNaN(m) || m < 0)
    out.push(`meanResponseMs = ${describeValue(m)}: expected a number ≥ 0`);
  else if (anyUnstable && m !== Infinity)
    out.push(`meanResponseMs = ${m} but a tenant is unstable (expected Infinity)`);
  else if (!anyUnstable && m === Infinity) out.push('meanResponseMs = Infinity but every tenant is stable');
  else if (!anyUnstable && out.length === 0 && !(m >= lo * (1 - tol) - 1e-9 && m <= hi * (1 + tol) + 1e-9))
    out.push(`meanResponseMs = ${m} is outside the tenants' responses [${lo}, ${hi}]`);
  return out;
}

function violation(
  identity: LatencyModelIdentity,
  what: string,
  problems: string[],
  cause?: unknown,
): InvalidConfigError {
  const label = latencyModelLabel(identity);
  return new InvalidConfigError(
    `Expected ${what} from latency model ${label} but received ${problems.length === 1 ? 'one that' : `one with ${problems.length} problems`}:\n  ${problems.join('\n  ')}`,
    problems,
    { ...(cause === undefined ? {} : { cause }), details: { latencyModel: { ...identity, label } } },
  );
}

/**
 * Runs the quick conformance checks ({@link QUICK_CONFORMANCE_CHECKS}) on a freshly created model. Throws
 * {@link InvalidConfigError} listing every failure, naming the model, its package and its version.
 */
export function quickCheckLatencyModel(model: LatencyModel, identity: LatencyModelIdentity): void {
  const report = checkLatencyModel(model, { only: QUICK_CONFORMANCE_CHECKS, tolerance: 1e-6 });
  if (report.passed) return;
  const problems = report.checks.flatMap((c) => c.failures.map((f) => `[${c.name}] ${f}`));
  throw violation(identity, 'a latency model that passes the quick conformance checks', problems);
}

/**
 * Wraps `model` so that every prediction is checked ({@link predictionProblems}) before anyone sees it: a
 * violation, or a predict/fit that throws something other than a SwapLess error, becomes an
 * {@link InvalidConfigError} naming the model, its package and version. A SwapLess error the model throws on
 * purpose (a malformed system) passes through unchanged. The wrapper keeps the model's `name`.
 */
export function guardLatencyModel(
  model: LatencyModel,
  identity: LatencyModelIdentity,
  options: GuardOptions = {},
): GuardedLatencyModel {
  const rethrow = (err: unknown, what: string): never => {
    if (isSwapLessError(err)) throw err;
    throw violation(
      identity,
      `a latency model whose ${what} does not throw`,
      [`${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : describeValue(err)}`],
      err,
    );
  };
  const guarded: GuardedLatencyModel = {
    name: model.name,
    identity,
    inner: model,
    predict(system: SystemSetup): Prediction {
      let p: Prediction;
      try {
        p = model.predict(system);
      } catch (err) {
        return rethrow(err, 'predict()');
      }
      const problems = predictionProblems(system, p, options);
      if (problems.length > 0)
        throw violation(
          identity,
          'finite, non-negative predictions whose stages add up',
          problems.slice(0, 8),
        );
      return p;
    },
  };
  if (typeof model.fit === 'function') {
    const fit = model.fit.bind(model);
    guarded.fit = (observations: readonly FitObservation[]) => {
      try {
        fit(observations);
      } catch (err) {
        rethrow(err, 'fit()');
      }
    };
  }
  return Object.freeze(guarded);
}
