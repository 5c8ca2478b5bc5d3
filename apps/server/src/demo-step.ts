/**
 * A demo step that matters: the demo load's rate step is there to show the controller adapting, so it must be a
 * step after which another plan is predicted to be clearly better than keeping the first one — and before which
 * that other plan is clearly worse, or the controller (whose predictions move as it corrects them live) may take
 * it before the step and have nothing left to switch to. From the tenants'
 * profiled catalogs (and the emulation pool priced from the profiles, as the service plans before it measured
 * anything) this predicts the swapless policy's plan for each phase and the gain of switching; `demo-costs.ts` tries
 * the mixes of {@link DEMO_MIXES} in order and keeps the first whose gains both ways reach {@link DEMO_STEP_MIN_GAIN}.
 */
import type { NamedChoice, TenantChoice } from '@swapless/contracts';
import {
  delayedPredictor,
  ServiceCorrection,
  swaplessPolicy,
  systemSetup,
  type TenantCatalog,
} from '@swapless/controller';
import { defaultModel } from '@swapless/queueing';
import {
  DEMO_MIXES,
  type DemoHost,
  type DemoLoad,
  type DemoStepPlan,
  type DemoTenantCost,
  sizeDemoLoad,
} from './demo-load.js';

/**
 * Smallest predicted gain, both ways, of the two phases' plans for a mix to be kept (10 %: well past the
 * hysteresis' 3 %).
 */
export const DEMO_STEP_MIN_GAIN = 0.1;

function describe(choices: readonly NamedChoice[]): string {
  return choices.map((c) => `${c.name} k=${c.k} c=${c.cores}${c.cores > 1 ? ` ${c.mode}` : ''}`).join(', ');
}

/**
 * The controller's predicted plans for a sized demo load's two phases and the gain of switching at the step
 * (`mix` is recorded as given). `emulationWorkers`: the functional emulator's pool (null: none).
 */
export function planDemoStep(
  load: DemoLoad,
  catalogs: ReadonlyMap<string, TenantCatalog>,
  cores: number,
  emulationWorkers: number | null,
  mix: number,
): DemoStepPlan {
  const names = load.workload.tenants.map((t) => t.name);
  const correction = new ServiceCorrection(catalogs);
  correction.setEmulation(emulationWorkers);
  const [first, second] = load.sizing.phases.map((p) => p.rates) as [
    Record<string, number>,
    Record<string, number>,
  ];
  const decide = (rates: Record<string, number>) =>
    swaplessPolicy({ correction }).initial({
      tenants: names.map((name) => ({ name, rate: rates[name] ?? 0, catalog: catalogs.get(name)! })),
      cores,
      nowMs: 0,
    });
  const first_ = decide(first);
  const before = first_.tenants;
  const after = decide(second);
  // The mean at `rates` of a plan, under the same model the policy uses.
  const meanAt = (rates: Record<string, number>, choices: readonly TenantChoice[]) => {
    const planned = names.map((name) => ({
      name,
      rate: rates[name] ?? 0,
      catalog: correction.corrected(name),
    }));
    return delayedPredictor(defaultModel, planned, { emulationWorkers }).predict(
      systemSetup(planned, choices, cores),
    ).meanResponseMs;
  };
  const keptMs = meanAt(second, before);
  const bestMs = after.predictedMs;
  return {
    mix,
    before: describe(before),
    after: describe(after.tenants),
    keptMs,
    bestMs,
    gain: relativeGain(keptMs, bestMs),
    reverseGain: relativeGain(meanAt(first, after.tenants), first_.predictedMs),
  };
}

/** (worse − better) / worse: 1 when only `worse` is unstable, 0 when both are or `better` is no better. */
function relativeGain(worseMs: number, betterMs: number): number {
  if (!Number.isFinite(worseMs)) return Number.isFinite(betterMs) ? 1 : 0;
  return worseMs > 0 ? Math.max(0, (worseMs - betterMs) / worseMs) : 0;
}

/** A step's gain both ways: the smaller of switching after the step and of not switching before it. */
function twoWayGain(step: DemoStepPlan | null): number {
  return step === null ? 0 : Math.min(step.gain, step.reverseGain);
}

/**
 * Sizes the demo load with each mix of {@link DEMO_MIXES} in turn and returns the first whose step `plan` predicts
 * a gain of at least {@link DEMO_STEP_MIN_GAIN} both ways (switching after the step, not switching before it), else
 * the one with the largest such gain (the first mix when none gains). A mix `plan` throws for (a tenant set the
 * controller cannot plan) counts as no gain.
 */
export function chooseDemoLoad(
  costs: readonly DemoTenantCost[],
  host: DemoHost,
  device: string,
  plan: (load: DemoLoad, mix: number) => DemoStepPlan,
): DemoLoad {
  let best: DemoLoad | null = null;
  for (const [i, mix] of DEMO_MIXES.entries()) {
    const load = sizeDemoLoad(costs, host, { device, mix });
    try {
      load.sizing.step = plan(load, i);
    } catch {
      load.sizing.step = null;
    }
    const gain = twoWayGain(load.sizing.step);
    if (best === null || gain > twoWayGain(best.sizing.step)) best = load;
    if (gain >= DEMO_STEP_MIN_GAIN) return load;
  }
  return best!;
}
