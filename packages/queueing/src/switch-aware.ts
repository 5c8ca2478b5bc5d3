/**
 * The Edge TPU under the switch-aware discipline (`TpuDiscipline` `{ kind: 'switch-aware', maxExtraWaitMs }`):
 * a documented approximation, validated against the simulator by `npm run bench:model-accuracy` (docs/queueing.md,
 * "Switch-aware discipline"). Two terms change against FIFO:
 *
 * 1. **Switch probability.** After a call of token g the device serves g again (no reload) when a g call waited
 *    behind it — one arrived during its sojourn at the device, since older g calls were served before it — or when
 *    nothing else waits and the next arrival is g. With T_g the sojourn (wait W + service), approximated as its
 *    deterministic service part times an exponential wait part, P(a g call arrived) = 1 − e^(−λ_g·S_g)/(1 + λ_g·W)
 *    and P(nothing else) the same with Λ − λ_g. The budget allows J_g = ⌊budget / s_g⌋ consecutive overtakes of
 *    one waiting call, so the continuation probability is FIFO's λ_g/Λ plus the switch-aware gain times
 *    1 − c_g^J_g. p_g = 1 − c_g, solved by damped fixed-point iteration with W (it depends on p through the load).
 * 2. **Waiting time.** Calls served without reload by a token that may overtake (J_g ≥ 1) jump the queue, so the
 *    TPU is approximated as a two-class non-preemptive priority M/G/1 (Cobham): W_H = W0/(1 − ρ_H) for those
 *    calls, W_L = W0/((1 − ρ_H)(1 − ρ)) for the rest, W0 = Λ·E[S²]/2 over the mixture with the new p.
 *
 * With one token, or a budget below every token's service (J = 0), both terms are exactly FIFO's.
 */
import type { SystemSetup } from '@swapless/contracts';
import { bernoulliExtraMoments, perMs } from './formulas.js';
import type { TpuAnalysis, TpuClass } from './model.js';

/** One caching token's calls on the device (rate-weighted over the tenants sharing it). */
interface TokenGroup {
  /** λ_g, per ms. */
  rate: number;
  /** Mean service without reload, ms. */
  serviceMs: number;
  /** Mean reload, ms. */
  reloadMs: number;
  /** Overtakes of one waiting call the budget allows in a row, ⌊budget / serviceMs⌋. */
  overtakes: number;
  /** Switch probability (the fixed point). */
  p: number;
}

/** The Edge TPU analysis under the switch-aware discipline, with each tenant's own mean wait. */
export interface SwitchAwareAnalysis extends TpuAnalysis {
  /** Mean TPU wait per tenant index (tenants with a TPU stage only), ms; Infinity when unstable. */
  readonly waitByIndex: ReadonlyMap<number, number>;
}

const ITERATIONS = 200;

/** The token groups of a system's TPU tenants, p at FIFO's value. */
function tokenGroups(system: SystemSetup, budgetMs: number): Map<string, TokenGroup> {
  const groups = new Map<string, TokenGroup>();
  for (const t of system.tenants) {
    if (t.tpu === null) continue;
    const r = perMs(t.rate);
    const g = groups.get(t.tpu.token) ?? { rate: 0, serviceMs: 0, reloadMs: 0, overtakes: 0, p: 0 };
    g.rate += r;
    g.serviceMs += r * t.tpu.serviceMs;
    g.reloadMs += r * t.tpu.reloadMs;
    groups.set(t.tpu.token, g);
  }
  const total = [...groups.values()].reduce((s, g) => s + g.rate, 0);
  for (const g of groups.values()) {
    g.serviceMs = g.rate > 0 ? g.serviceMs / g.rate : 0;
    g.reloadMs = g.rate > 0 ? g.reloadMs / g.rate : 0;
    g.overtakes = g.serviceMs > 0 ? Math.floor(budgetMs / g.serviceMs + 1e-9) : Number.POSITIVE_INFINITY;
    // Start from the budget's bound on runs (a run of J + 1 calls per waiting call), never above FIFO's.
    g.p = total > 0 ? Math.min(Math.max(0, 1 - g.rate / total), 1 / (1 + g.overtakes)) : 0;
  }
  return groups;
}

/** The per-tenant classes, the load and W0 = Λ·E[S²]/2 at the groups' current switch probabilities. */
function classesAt(system: SystemSetup, groups: ReadonlyMap<string, TokenGroup>) {
  const classes: TpuClass[] = [];
  let m1 = 0;
  let m2 = 0;
  let rateHigh = 0;
  let loadHigh = 0;
  system.tenants.forEach((t, index) => {
    if (t.tpu === null) return;
    const ratePerMs = perMs(t.rate);
    const g = groups.get(t.tpu.token)!;
    const moments = bernoulliExtraMoments(t.tpu.serviceMs, t.tpu.serviceVarianceMs2, t.tpu.reloadMs, g.p);
    classes.push({ index, ratePerMs, switchProbability: g.p, moments });
    m1 += ratePerMs * moments.meanMs;
    m2 += ratePerMs * moments.secondMomentMs2;
    if (g.overtakes >= 1) {
      rateHigh += ratePerMs * (1 - g.p);
      loadHigh += ratePerMs * (1 - g.p) * t.tpu.serviceMs;
    }
  });
  return { classes, utilization: m1, m2, rateHigh, loadHigh };
}

/** The two priority waits (W_H, W_L) and the FIFO wait at a load; Infinity when unstable. */
function waits(utilization: number, m2: number, loadHigh: number) {
  if (utilization >= 1) return { high: Infinity, low: Infinity, fifo: Infinity };
  const w0 = m2 / 2;
  return {
    high: w0 / (1 - loadHigh),
    low: w0 / ((1 - loadHigh) * (1 - utilization)),
    fifo: w0 / (1 - utilization),
  };
}

/** One damped fixed-point step of every group's p at FIFO wait `waitMs`; returns the largest change. */
function updateSwitchProbabilities(groups: Iterable<TokenGroup>, total: number, waitMs: number): number {
  let delta = 0;
  for (const g of groups) {
    const fifo = Math.max(0, 1 - g.rate / total);
    const sojourn = g.serviceMs + g.p * g.reloadMs;
    const other = total - g.rate;
    const followed = 1 - Math.exp(-g.rate * sojourn) / (1 + g.rate * waitMs);
    const alone = Math.exp(-other * sojourn) / (1 + other * waitMs);
    const aware = followed + (1 - followed) * alone * (g.rate / total);
    const cf = g.rate / total;
    const c = cf + (aware - cf) * (1 - aware ** g.overtakes);
    const next = 0.5 * g.p + 0.5 * Math.min(fifo, Math.max(0, 1 - c));
    delta = Math.max(delta, Math.abs(next - g.p));
    g.p = next;
  }
  return delta;
}

/**
 * The Edge TPU of a single-device system under the switch-aware discipline with reordering budget `budgetMs`
 * (> 0), as described in this file's comment. The caller validates `system` first. `pkWaitMs` is the
 * rate-weighted mean of the tenants' waits.
 */
export function analyzeSwitchAwareTpu(system: SystemSetup, budgetMs: number): SwitchAwareAnalysis {
  const groups = tokenGroups(system, budgetMs);
  const total = [...groups.values()].reduce((s, g) => s + g.rate, 0);
  if (groups.size > 1 && total > 0) {
    for (let i = 0; i < ITERATIONS; i++) {
      const at = classesAt(system, groups);
      const w = waits(at.utilization, at.m2, at.loadHigh);
      if (!Number.isFinite(w.fifo)) break;
      if (updateSwitchProbabilities(groups.values(), total, w.fifo) < 1e-10) break;
    }
  }
  const at = classesAt(system, groups);
  const w = waits(at.utilization, at.m2, at.loadHigh);
  const waitByIndex = new Map<number, number>();
  let weighted = 0;
  for (const c of at.classes) {
    const g = groups.get(system.tenants[c.index]!.tpu!.token)!;
    const high = g.overtakes >= 1 ? 1 - g.p : 0;
    const wait = Number.isFinite(w.fifo) ? high * w.high + (1 - high) * w.low : Infinity;
    waitByIndex.set(c.index, wait);
    weighted += c.ratePerMs * wait;
  }
  return {
    ratePerMs: total,
    moments:
      total > 0
        ? { meanMs: at.utilization / total, secondMomentMs2: at.m2 / total }
        : { meanMs: 0, secondMomentMs2: 0 },
    utilization: at.utilization,
    pkWaitMs: total === 0 ? 0 : Number.isFinite(w.fifo) ? weighted / total : Infinity,
    classes: at.classes,
    waitByIndex,
  };
}
