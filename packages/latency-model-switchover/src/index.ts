/**
 * `@swapless/latency-model-switchover`: a latency-model plugin that refines SwapLess's default model where it is
 * approximate. The Edge TPU is still one FCFS M/G/1 server, but a token-switch reload is treated as what it
 * is — a *switchover (setup) time* the server spends before a call whose caching token differs from the
 * previous call's — and the mean wait accounts for the fact that successive service times are then not
 * independent. Optionally, `fit()` learns each tenant's reload fraction from the runtime (bursty, non-Poisson
 * arrivals make same-tenant runs longer than the Poisson argument predicts). Reasoning: README.md.
 *
 * The plugin interface comes from `@swapless/contracts` (a peer dependency: the host's copy); the queueing
 * building blocks it reuses come from the published API of `@swapless/queueing`.
 */
import type {
  FitObservation,
  LatencyModel,
  LatencyModelFactory,
  Prediction,
  SystemSetup,
} from '@swapless/contracts';
import {
  analyzeTpu,
  buildPrediction,
  expected,
  InvalidArgumentError,
  predictByDevice,
  type TpuAnalysis,
  validateSystem,
} from '@swapless/queueing';

/** Name of the model, as `Prediction.model` reports it. */
export const SWITCHOVER_MODEL_NAME = 'mg1-switchover';

/** How the correlation between a call's reload and the queue it finds is modelled. */
export type Correction = 'transform' | 'linear' | 'none';

/** Options (validated against the manifest's `optionsSchema` when loaded through the registry). */
export interface SwitchoverOptions {
  /** Default `transform`. */
  correction?: Correction;
  /** Calls a tenant must have been observed for before its fitted reload fraction is used. Default 200. */
  minObservedCalls?: number;
  /** Calls the fitted reload fraction remembers (older windows are discounted). Default 5000. */
  memoryCalls?: number;
}

/** The switchover correction's intermediate quantities, for tests and reports. */
export interface SwitchoverWait {
  /** Pollaczek–Khinchine wait over the mixture (what `mg1-default` uses), ms. */
  readonly pkWaitMs: number;
  /** Σ_a π_a·m(a)·δ_a: covariance between the next call's expected service and the wait it finds, ms². */
  readonly covarianceMs2: number;
  /** The corrected mean Edge TPU wait, ms. */
  readonly waitMs: number;
}

/**
 * E[e^{−s·X}] for a service time X with the given mean and variance: a gamma distribution with those two
 * moments ((1 + sθ)^(−k), k = m²/v, θ = v/m), or the deterministic e^{−s·m} when v = 0.
 */
function serviceTransform(meanMs: number, varianceMs2: number, s: number): number {
  if (varianceMs2 <= 0 || meanMs <= 0) return Math.exp(-s * meanMs);
  const theta = varianceMs2 / meanMs;
  return (1 + s * theta) ** (-(meanMs * meanMs) / varianceMs2);
}

/**
 * The Edge TPU mean wait with sequence-dependent switchover times under FCFS.
 *
 * Work-conservation: with S_n the n-th call's service (reload included) and W_n its wait, the mean workload
 * is Λ(E[S_n W_n] + E[S²]/2) and, by PASTA, equals E[W]. Pollaczek–Khinchine assumes S_n independent of
 * W_n; here S_n depends on the previous call's tenant a = c_{n−1} (it reloads iff the tokens differ), and so
 * does W_n (the previous call's service is part of the work it finds). Conditioning on a:
 * E[S_n W_n] = E[S]E[W] + Σ_a π_a m(a) δ_a, with m(a) = E[S_n | c_{n−1} = a] = Σ_j π_j (x_j + r_j·[tok_j ≠ tok_a])
 * and δ_a = E[W_n | c_{n−1} = a] − E[W]. Hence E[W] = Λ(E[S²]/2 + C)/(1 − ρ), C = Σ_a π_a m(a) δ_a.
 *
 * δ_a (`transform`): W_n = max(0, W_{n−1} + S_{n−1} − A_n) with A_n ~ Exp(Λ), so
 * E[W_n | a] = E[W] + E[S_a] − (1 − W*(Λ)·S_a*(Λ))/Λ, using W*(Λ) = (1 − ρ)/S*(Λ) from the M/G/1 waiting
 * time transform evaluated at s = Λ, and S_a*(Λ) = X_a*(Λ)·(1 − p_a + p_a e^{−Λ r_a}). The only approximation
 * left is W_{n−1} ⟂ S_{n−1} inside that one step. `linear`: the first-order version δ_a ≈ ρ·(E[S_a] − E[S])
 * (P(W_n > 0) = ρ). Either way Σ_a π_a δ_a = 0, and C = 0 when every tenant is alike (then the XOR of
 * consecutive i.i.d. tenants is itself i.i.d. and P-K is exact).
 *
 * C is floored at −E[S²]/2 so the wait is never negative and never falls as every rate is scaled up.
 * Returns the P-K wait unchanged for `none`, Λ = 0 or ρ ≥ 1.
 */
export function switchoverWait(
  system: SystemSetup,
  tpu: TpuAnalysis,
  correction: Correction,
): SwitchoverWait {
  const lambda = tpu.ratePerMs;
  const rho = tpu.utilization;
  if (correction === 'none' || lambda === 0 || rho >= 1)
    return { pkWaitMs: tpu.pkWaitMs, covarianceMs2: 0, waitMs: tpu.pkWaitMs };
  const classes = tpu.classes.map((c) => {
    const stage = system.tenants[c.index]!.tpu!;
    return {
      pi: c.ratePerMs / lambda,
      token: stage.token,
      x: stage.serviceMs,
      v: stage.serviceVarianceMs2,
      r: stage.reloadMs,
      p: c.switchProbability,
      mean: c.moments.meanMs,
    };
  });
  const meanS = tpu.moments.meanMs;
  const transforms = classes.map(
    (c) => serviceTransform(c.x, c.v, lambda) * (1 - c.p + c.p * Math.exp(-lambda * c.r)),
  );
  const mixtureTransform = classes.reduce((s, c, i) => s + c.pi * transforms[i]!, 0);
  const waitTransform = (1 - rho) / mixtureTransform;
  let covariance = 0;
  classes.forEach((a, i) => {
    if (a.pi === 0) return;
    let next = 0;
    for (const j of classes) next += j.pi * (j.x + (j.token !== a.token ? j.r : 0));
    const delta =
      correction === 'linear'
        ? rho * (a.mean - meanS)
        : a.mean - (1 - waitTransform * transforms[i]!) / lambda;
    covariance += a.pi * next * delta;
  });
  const half = tpu.moments.secondMomentMs2 / 2;
  const c = Math.max(covariance, -half);
  return { pkWaitMs: tpu.pkWaitMs, covarianceMs2: covariance, waitMs: (lambda * (half + c)) / (1 - rho) };
}

/** What `fit()` remembers per tenant. */
interface Learned {
  calls: number;
  reloads: number;
}

/** The model with its fitted state, as {@link createSwitchoverModel} returns it. */
export interface SwitchoverModel extends LatencyModel {
  /** Learns each tenant's reload fraction from `reloadFraction` and `count` of the observations. */
  fit(observations: readonly FitObservation[]): void;
  /** The reload probabilities currently replacing the analytic ones (tenants with enough observed calls). */
  fittedSwitchProbabilities(): ReadonlyMap<string, number>;
}

/**
 * Creates the model. Throws `InvalidArgumentError` (`SWAPLESS_INVALID_ARGUMENT`) for options of the wrong type
 * when called directly (through the registry they are already validated against the manifest's schema).
 */
export function createSwitchoverModel(options: SwitchoverOptions = {}): SwitchoverModel {
  const correction = options.correction ?? 'transform';
  const minCalls = options.minObservedCalls ?? 200;
  const memory = options.memoryCalls ?? 5000;
  if (!['transform', 'linear', 'none'].includes(correction))
    throw new InvalidArgumentError(
      expected("'transform', 'linear' or 'none'", 'options.correction', correction),
    );
  for (const [key, value] of [
    ['minObservedCalls', minCalls],
    ['memoryCalls', memory],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new InvalidArgumentError(expected('an integer ≥ 1', `options.${key}`, value));
  }
  const learned = new Map<string, Learned>();
  const fitted = (): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [name, l] of learned) if (l.calls >= minCalls) out.set(name, l.reloads / l.calls);
    return out;
  };

  return {
    name: SWITCHOVER_MODEL_NAME,
    predict(system: SystemSetup): Prediction {
      validateSystem(system);
      // Several Edge TPUs: each device's tenants as a system of their own (one queue per device).
      return predictByDevice(system, SWITCHOVER_MODEL_NAME, (sub) => {
        const tpu = analyzeTpu(sub, learned.size > 0 ? fitted() : undefined);
        return buildPrediction(SWITCHOVER_MODEL_NAME, sub, tpu, switchoverWait(sub, tpu, correction).waitMs);
      });
    },
    fit(observations: readonly FitObservation[]): void {
      if (!Array.isArray(observations))
        throw new InvalidArgumentError(expected('an array of observations', 'fit()', observations));
      for (const o of observations) {
        // Windows without a usable reload fraction carry nothing this model learns from; skip them.
        if (typeof o?.tenant !== 'string' || typeof o.reloadFraction !== 'number') continue;
        if (
          !(o.reloadFraction >= 0 && o.reloadFraction <= 1) ||
          !(Number.isFinite(o.count) && o.count >= 1)
        ) {
          throw new InvalidArgumentError(
            expected('reloadFraction in [0, 1] and count ≥ 1', `the observation of ${o.tenant}`, o),
          );
        }
        const prev = learned.get(o.tenant) ?? { calls: 0, reloads: 0 };
        const count = Math.min(o.count, memory);
        // Discount the past so that at most `memory` calls are remembered: recent windows dominate.
        const keep = prev.calls + count > memory ? Math.max(0, memory - count) / prev.calls : 1;
        learned.set(o.tenant, {
          calls: prev.calls * keep + count,
          reloads: prev.reloads * keep + count * o.reloadFraction,
        });
      }
    },
    fittedSwitchProbabilities: () => fitted(),
  };
}

/** The plugin entry's default export: the registry calls it with the validated options. */
const factory: LatencyModelFactory<SwitchoverOptions> = (options) => createSwitchoverModel(options);
export default factory;
