/**
 * The demo load for this host: a workload file (tenants, rates, a rate step, duration, seed) that `swapless load
 * --demo` fetches from `GET /examples/demo-load.json`, sized from what the served tenants cost HERE so that it is
 * sustainable with headroom whatever cut and core split the controller (or the `default` policy) picks.
 *
 * A request costs the host its model's compute on the CPU whatever the cut: the head is computed by the
 * emulation pool (functional mode), the tail by the tenant's CPU stage, and head + tail of any cut is about the
 * whole model (measured by the profiler at one thread). At worst every tenant runs on the same kind of worker
 * (the `default` policy puts every head on the emulation pool), so the compute must fit the smaller of the two
 * pools; all of it plus the main thread's decoding of each request must fit the host's cores; and the Edge TPU's
 * modelled time (with a reload on every call, the worst case) must fit the device. Rates are scaled until the
 * heavier phase uses at most `target` of each.
 */
import { expected, InvalidArgumentError } from '@swapless/core';

/** What one tenant costs on this host (all measured here, except the device's time, which is modelled). */
export interface DemoTenantCost {
  /** Tenant name (the workload's tenant, the server's model name). */
  name: string;
  /** Model for the workload file (zoo name, or a label). */
  model: string;
  /** CPU time of one request's model compute at one thread, whatever the cut (measured by the profiler), ms. */
  hostMs: number;
  /** Main-thread time to decode one JSON request (measured at startup), ms. */
  overheadMs: number;
  /** Modelled Edge TPU time of its heaviest head including a full parameter reload, ms (0 without a TPU part). */
  deviceMs: number;
}

/** The host's parallelism. */
export interface DemoHost {
  /** Cores of the machine (`os.availableParallelism()`). */
  cores: number;
  /**
   * Workers of the smaller pool that computes models (emulation pool workers vs CPU cores for CPU stages): the
   * parallelism a configuration that puts every tenant on one kind of worker gets.
   */
  lanes: number;
}

/** Options of {@link sizeDemoLoad}. */
export interface DemoLoadOptions {
  /** Highest utilisation of the host, of the model-compute lanes and of the device in the heavier phase (0.5). */
  target?: number;
  /** When the rate step happens, s (20). */
  stepAtS?: number;
  /** Length of the load, s (40). */
  durationS?: number;
  /** Arrival seed (7). */
  seed?: number;
  /** Device profile named in the workload (usb3). */
  device?: string;
  /** Rate weights per tenant position before and after the step (the first of {@link DEMO_MIXES}). */
  mix?: readonly DemoWeights[];
  /**
   * Most requests per second of all tenants together in either phase ({@link DEMO_MAX_TOTAL_RATE}): what a request
   * costs in HTTP handling (both sides, the client on this host too) and in the emulator's timers is not in the
   * costs, and is what a cheap model's demo would measure instead of the model.
   */
  maxTotalRate?: number;
}

/** Utilisation of one phase at the chosen rates. */
export interface DemoPhaseLoad {
  atS: number;
  rates: Record<string, number>;
  /** (Σ λ·(hostMs + overheadMs)) / cores. */
  host: number;
  /** (Σ λ·hostMs) / lanes. */
  lanes: number;
  /** Σ λ·deviceMs. */
  device: number;
}

/** A sized demo load. */
export interface DemoLoad {
  /** The workload file (`parseWorkload`-valid: what `swapless load --workload/--demo` reads). */
  workload: {
    device: string;
    cpu: { cores: number };
    tenants: { name: string; model: string; rate: number; sloMs: number }[];
    phases: { atS: number; rates: Record<string, number> }[];
    durationS: number;
    seed: number;
  };
  /** What it was sized from and to. */
  sizing: {
    target: number;
    host: DemoHost;
    costs: DemoTenantCost[];
    phases: DemoPhaseLoad[];
    /**
     * What the controller is predicted to do at the step, from the profiles (see `demo-step.ts`): null when it was
     * not planned (a pure sizing, or no tenant can change its plan).
     */
    step: DemoStepPlan | null;
  };
}

/** The controller's plans for the demo's two phases as predicted at startup (see `planDemoStep`). */
export interface DemoStepPlan {
  /** Index of the mix in {@link DEMO_MIXES}. */
  mix: number;
  /** Plan of the first phase, e.g. `mobilenet_v2 k=66 c=0, …`. */
  before: string;
  /** Plan chosen for the second phase's rates. */
  after: string;
  /** Predicted mean response after the step with the first plan kept, and with the second, ms. */
  keptMs: number;
  bestMs: number;
  /** (keptMs − bestMs) / keptMs: 1 when the first plan would be unstable after the step. */
  gain: number;
  /**
   * The same the other way round: how much worse the second phase's plan is predicted to be than the first's
   * before the step (1 when unstable there). A small value means the controller, whose live corrections move its
   * predictions, may well pick the second plan before the step and then have nothing to switch to.
   */
  reverseGain: number;
}

/** Highest utilisation of one model-compute lane after the step (see {@link sizeDemoLoad}). */
export const STEP_LANE_MAX = 0.7;

/** Default utilisation target of the heavier phase. */
export const DEMO_LOAD_TARGET = 0.35;
/** Default cap of the demo's total rate, req/s (see {@link DemoLoadOptions.maxTotalRate}). */
export const DEMO_MAX_TOTAL_RATE = 200;

/** Weights of one tenant's rate in the demo's two phases (before and after the step). */
export type DemoWeights = readonly [number, number];

/**
 * The mixes the demo's step may take, by tenant position (tenants past a mix's length keep weight [1, 1]), in order
 * of preference. The first is the demo's own: the first tenant drops to a quarter, the second triples (the embedded
 * demo: mobilenet_v2 8 → 2, mobilenet_v1 4 → 12, efficientnet_s 2 → 2 req/s); the others move the step to other
 * tenants, for hosts where the first one is a step after which the same plan stays best (see `demo-step.ts`).
 */
export const DEMO_MIXES: readonly (readonly DemoWeights[])[] = [
  [
    [4, 1],
    [2, 6],
  ],
  [
    [1, 4],
    [6, 2],
  ],
  [
    [4, 1],
    [2, 2],
    [1, 4],
  ],
  [
    [1, 1],
    [1, 6],
    [4, 1],
  ],
];

function weightsOf(mix: readonly DemoWeights[]): (i: number) => DemoWeights {
  return (i) => mix[i] ?? [1, 1];
}

/** Rounds a rate down to 0.1 req/s, at least 0.1. */
function roundRate(r: number): number {
  return Math.max(0.1, Math.floor(r * 10 + 1e-9) / 10);
}

function phaseLoad(costs: readonly DemoTenantCost[], host: DemoHost, rates: readonly number[]) {
  let hostMs = 0;
  let laneMs = 0;
  let deviceMs = 0;
  costs.forEach((c, i) => {
    const r = rates[i]!;
    hostMs += r * (c.hostMs + c.overheadMs);
    laneMs += r * c.hostMs;
    deviceMs += r * c.deviceMs;
  });
  return { host: hostMs / 1000 / host.cores, lanes: laneMs / 1000 / host.lanes, device: deviceMs / 1000 };
}

function nonNegative(v: number, what: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new InvalidArgumentError(expected('a finite number ≥ 0', what, v));
}

/**
 * Sizes the demo load from measured costs (a pure function): two phases with the demo's mix (`options.mix`, see
 * {@link DEMO_MIXES}), one scale for both, the largest with every utilisation of either phase ≤ `target` and at most
 * `maxTotalRate` requests per second in all; rates rounded down to 0.1 req/s. Each tenant's `sloMs` is four times what one request costs it alone (compute,
 * decoding, device), rounded up to 10 ms. InvalidArgumentError for a cost that is not a finite number ≥ 0, a host without a core
 * or a lane, no tenants, a target outside (0, 1], or a cap that is not above 0.
 */
export function sizeDemoLoad(
  costs: readonly DemoTenantCost[],
  host: DemoHost,
  options: DemoLoadOptions = {},
): DemoLoad {
  const target = options.target ?? DEMO_LOAD_TARGET;
  if (!(target > 0 && target <= 1))
    throw new InvalidArgumentError(expected('a number in (0, 1]', 'the demo load target', target));
  if (!(host.cores >= 1) || !(host.lanes >= 1))
    throw new InvalidArgumentError(expected('at least one core and one lane', 'the demo host', host));
  if (costs.length === 0)
    throw new InvalidArgumentError(expected('at least one tenant', 'the demo load', 'none'));
  for (const c of costs) {
    nonNegative(c.hostMs, `the hostMs of ${c.name}`);
    nonNegative(c.overheadMs, `the overheadMs of ${c.name}`);
    nonNegative(c.deviceMs, `the deviceMs of ${c.name}`);
  }
  const weights = weightsOf(options.mix ?? DEMO_MIXES[0]!);
  const stepAtS = options.stepAtS ?? 20;
  const durationS = options.durationS ?? 40;
  const unit = [0, 1].map((p) =>
    phaseLoad(
      costs,
      host,
      costs.map((_, i) => weights(i)[p]!),
    ),
  );
  // The largest scale at which the heavier phase of each resource stays within the target.
  let scale = Number.POSITIVE_INFINITY;
  // After the step, one model-compute lane may reach twice the target (at most STEP_LANE_MAX) while the host as a
  // whole stays within it: kept as it was, the plan of the first phase then queues on one lane, so the step gives
  // the controller a reason to move work between the Edge TPU's heads and the CPU stages.
  unit.forEach((u, p) => {
    const laneTarget = p === 0 ? target : Math.min(STEP_LANE_MAX, 2 * target);
    if (u.host > 0) scale = Math.min(scale, target / u.host);
    if (u.device > 0) scale = Math.min(scale, target / u.device);
    if (u.lanes > 0) scale = Math.min(scale, laneTarget / u.lanes);
  });
  const maxTotalRate = options.maxTotalRate ?? DEMO_MAX_TOTAL_RATE;
  if (!(maxTotalRate > 0))
    throw new InvalidArgumentError(expected('a rate above 0', 'the demo maxTotalRate', maxTotalRate));
  for (const p of [0, 1]) {
    const total = costs.reduce((sum, _, i) => sum + weights(i)[p]!, 0);
    scale = Math.min(scale, maxTotalRate / total);
  }
  const rates = [0, 1].map((p) => costs.map((_, i) => roundRate(scale * weights(i)[p]!)));
  const byName = (rs: readonly number[]) => Object.fromEntries(costs.map((c, i) => [c.name, rs[i]!]));
  const phases: DemoPhaseLoad[] = [0, 1].map((p) => ({
    atS: p === 0 ? 0 : stepAtS,
    rates: byName(rates[p]!),
    ...phaseLoad(costs, host, rates[p]!),
  }));
  // Only the tenants whose rate changes are listed in the step.
  const stepRates = Object.fromEntries(
    costs.flatMap((c, i) => (rates[1]![i] !== rates[0]![i] ? [[c.name, rates[1]![i]!] as const] : [])),
  );
  return {
    workload: {
      device: options.device ?? 'usb3',
      cpu: { cores: Math.max(1, host.cores - 1) },
      tenants: costs.map((c, i) => ({
        name: c.name,
        model: c.model,
        rate: rates[0]![i]!,
        sloMs: Math.max(10, Math.ceil((4 * (c.hostMs + c.overheadMs + c.deviceMs)) / 10) * 10),
      })),
      phases: Object.keys(stepRates).length > 0 ? [{ atS: stepAtS, rates: stepRates }] : [],
      durationS,
      seed: options.seed ?? 7,
    },
    sizing: { target, host: { ...host }, costs: costs.map((c) => ({ ...c })), phases, step: null },
  };
}

/** Where the server serves the demo load. */
export const DEMO_LOAD_ROUTE = '/examples/demo-load.json';
/** The file in the server's state directory the demo load is written to. */
export const DEMO_LOAD_FILE = 'demo-load.json';

/** What the startup banner shows of a demo load (null for none). */
export function bannerDemoLoad(load: DemoLoad | null): {
  rates: Record<string, number>;
  step: { atS: number; rates: Record<string, number> } | null;
  durationS: number;
  utilisation: number;
  stepGain: number | null;
  /** How much worse the second phase's plan is predicted to be before the step (null: no prediction). */
  stepReverseGain: number | null;
} | null {
  if (load === null) return null;
  const w = load.workload;
  const step = w.phases[0];
  return {
    rates: Object.fromEntries(w.tenants.map((t) => [t.name, t.rate])),
    step: step === undefined ? null : { atS: step.atS, rates: { ...step.rates } },
    durationS: w.durationS,
    utilisation: Math.max(...load.sizing.phases.flatMap((p) => [p.host, p.lanes, p.device])),
    stepGain: load.sizing.step?.gain ?? null,
    stepReverseGain: load.sizing.step?.reverseGain ?? null,
  };
}
