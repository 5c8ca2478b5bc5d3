/**
 * Plans and their records, shared by the tenant lifecycle (tenants.ts: a fresh policy per tenant change) and the
 * control loop (control-loop.ts: the policy's tick decisions): making a fresh policy's initial decision, handing a
 * decision to the runtime, recording it in the history, and the tenants' predicted responses under the
 * configuration in force.
 */
import type { Decision } from '@swapless/contracts';
import { type Policy, type PolicyTenant, sameDiscipline } from '@swapless/controller';
import type { ReconfigureRequest, RuntimeStats } from '@swapless/runtime';
import { planContext } from './placement.js';
import {
  emitSafe,
  finiteOrNull,
  type Layout,
  message,
  type ServiceState,
  sinceStart,
  type TenantEntry,
} from './state.js';
import type { DecisionRecord } from './types.js';

/** A fresh policy with its initial decision and the time the decision took, ms. */
export interface Plan {
  policy: Policy;
  decision: Decision;
  decisionMs: number;
}

/**
 * The rate a fresh policy starts a tenant at: its estimate once it has had requests, else its prior. Before its
 * first request the estimate only says that nothing arrived yet — while a server starts its tenants one by one
 * it decays towards 0 between the additions, and planning at it would plan for an idle tenant.
 */
export function priorOf(e: TenantEntry): number {
  return e.lastAdmitted > 0 && e.ratePerS > 0 ? e.ratePerS : e.priorPerS;
}

function policyTenants(state: ServiceState, entries: readonly TenantEntry[]): PolicyTenant[] {
  return entries.map((e) => {
    const pinned = state.placement.pinned(e.name);
    return {
      name: e.name,
      catalog: e.catalog,
      rate: priorOf(e),
      ...(e.sloMs !== null ? { sloMs: e.sloMs } : {}),
      ...(e.sloPercentile !== null ? { sloPercentile: e.sloPercentile } : {}),
      // The operator's placement, for a policy that places tenants (`TenantSetup.device`).
      ...(pinned !== undefined ? { device: pinned } : {}),
    };
  });
}

/** A fresh policy for `entries`, and its initial decision. */
export function plan(state: ServiceState, entries: readonly TenantEntry[]): Plan {
  const policy = state.policyFactory();
  state.policyName = policy.name;
  const t = performance.now();
  const decision = policy.initial(
    planContext(
      {
        tenants: policyTenants(state, entries),
        cores: state.cores,
        device: state.profile.name,
        nowMs: sinceStart(state),
      },
      state.placement,
    ),
  );
  return { policy, decision, decisionMs: performance.now() - t };
}

/**
 * The sets and discipline of `decision` as the runtime can run them now: set members it does not serve (a
 * newcomer not added yet) are left out, and so is a set left with fewer than two; none on the real Edge TPU (the
 * runtime runs every head compiled alone there); absent discipline: FIFO.
 */
function layoutOf(state: ServiceState, decision: Pick<ReconfigureRequest, 'sets' | 'discipline'>): Layout {
  const known = new Set(state.runtime.tenantNames);
  const sets = (state.runtime.backend === 'edgetpu' ? [] : (decision.sets ?? []))
    .map((set) => set.filter((name) => known.has(name)))
    .filter((set) => set.length >= 2);
  return { sets, discipline: decision.discipline ?? 'fifo' };
}

/** Same sets (members and compile order) and same discipline. */
function sameLayout(a: Layout, b: Layout): boolean {
  const sameSets =
    a.sets.length === b.sets.length &&
    a.sets.every((s, i) => s.length === b.sets[i]!.length && s.every((n, j) => n === b.sets[i]![j]));
  return sameSets && sameDiscipline(a.discipline, b.discipline);
}

/**
 * Hands a decision to the runtime as it is — choices, co-compiled sets and queue discipline (the runtime switches
 * only the tenants whose choice or set changes) — and keeps its sets and discipline as the ones in force
 * (`state.inForce`). A decision that changes none of them does not reach it.
 */
export async function reconfigure(state: ServiceState, decision: ReconfigureRequest): Promise<void> {
  const { placement, runtime } = state;
  const tenants = placement.placeAll(decision.tenants);
  const layout = layoutOf(state, decision);
  if (tenants.every((t) => placement.same(runtime.choice(t.name), t)) && sameLayout(state.inForce, layout))
    return;
  const event = await runtime.reconfigure({
    tenants,
    ...(layout.sets.length > 0 ? { sets: layout.sets } : {}),
    ...(layout.discipline !== 'fifo' ? { discipline: layout.discipline } : {}),
  });
  state.inForce = layout;
  // What loading the new variants cost: the policy's switch-cost model learns from it.
  for (const t of event.tenants) state.loads.push({ tenant: t.name, k: t.to.k, ms: event.elapsedMs });
}

/** The record of `decision` (not applied yet): the rates it was made at and the mean response it predicts. */
export function record(
  state: ServiceState,
  trigger: DecisionRecord['trigger'],
  decision: Decision,
  decisionMs: number,
  entries: readonly TenantEntry[],
): DecisionRecord {
  const rates = entries.map((e) =>
    trigger === 'tick' || trigger === 'divergence' ? e.ratePerS : priorOf(e),
  );
  // What a client should see under it (loop.ts), when the policy has a prediction of it at all.
  let predictedMs = finiteOrNull(decision.predictedMs);
  if (predictedMs !== null) {
    const planned = entries.map((e, i) => ({ name: e.name, rate: rates[i]!, catalog: e.catalog }));
    predictedMs =
      state.loop.meanMs(
        state.predictor,
        planned,
        decision.tenants,
        state.cores,
        state.profile.name,
        decision,
      ) ?? predictedMs;
  }
  return {
    seq: ++state.seq,
    atMs: state.clock(),
    trigger,
    choices: decision.tenants.map((c) => state.placement.recorded(state.placement.place(c))),
    predictedMs,
    reason: decision.reason,
    rates: Object.fromEntries(entries.map((e, i) => [e.name, rates[i]!])),
    decisionMs,
    applied: false,
    sets: (decision.sets ?? []).map((set) => [...set]),
    discipline: decision.discipline ?? 'fifo',
  };
}

/** Keeps a decision record in the bounded history and emits it (`decision`). */
export function pushDecision(state: ServiceState, decisionRecord: DecisionRecord): void {
  const history = state.history;
  history.push(decisionRecord);
  if (history.length > state.historyLimit) history.splice(0, history.length - state.historyLimit);
  emitSafe(state, 'decision', decisionRecord);
}

/**
 * Applies `decision` to the runtime: marks `decisionRecord` applied, or sets its `error` when the runtime refused
 * it (the caller keeps the record with {@link pushDecision}).
 */
export async function tryApply(
  state: ServiceState,
  decisionRecord: DecisionRecord,
  decision: ReconfigureRequest,
): Promise<void> {
  try {
    await reconfigure(state, decision);
    decisionRecord.applied = true;
  } catch (error) {
    decisionRecord.error = message(error);
  }
}

/**
 * Updates every tenant's predicted response: the latency model on the corrected catalogs at the estimated rates
 * and the current configuration (the runtime's choices, the co-compiled sets and queue discipline in force — what
 * the policy predicts its decision under), plus emulation lag and front-end time.
 */
export function predict(state: ServiceState, stats: RuntimeStats): void {
  const entries = [...state.tenants.values()].filter((e) => stats.tenants[e.name] !== undefined);
  for (const e of state.tenants.values()) {
    e.predictedMs = null;
    e.predictedStages = null;
  }
  if (entries.length === 0) return;
  try {
    const planned = entries.map((e) => ({
      name: e.name,
      rate: e.ratePerS,
      catalog: e.catalog,
      ...(e.sloMs !== null ? { sloMs: e.sloMs } : {}),
    }));
    // At the admitted rates: a tenant whose load is shed only sends its admitted share to the stages.
    const choices = entries.map((e) => {
      const st = stats.tenants[e.name]!;
      return st.admit < 1 ? { ...st.choice, admit: st.admit } : st.choice;
    });
    // The corrected model plus emulation lag and front-end time: what a client of this host sees (loop.ts).
    const {
      responseMs,
      stages,
      prediction: p,
    } = state.loop.predict(state.predictor, planned, choices, state.cores, state.profile.name, state.inForce);
    // The host's cores as this configuration shares them: what the next window's stage times are learned against.
    state.loop.shareHost(planned, choices, state.cores, state.profile.name, state.inForce);
    entries.forEach((e, i) => {
      const t = p.tenants[i];
      e.predictedMs = finiteOrNull(responseMs[i]!);
      e.predictedStages = e.predictedMs === null ? null : (stages[i] ?? null);
      // Deadline admission's stage times until the runtime has measured this configuration.
      if (t !== undefined)
        state.runtime.setServicePrior(e.name, { tpuMs: t.tpuServiceMs, cpuMs: t.cpuServiceMs });
    });
  } catch {
    // A configuration outside the catalog (set by hand on the runtime) has no prediction.
  }
}
