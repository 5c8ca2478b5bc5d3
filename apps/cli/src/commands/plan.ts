import {
  type PlannedTenant,
  type PlanResult,
  planWorkload,
  type Simulator,
  simulatedSystem,
} from '@swapless/controller';
import { ratesAt, type Workload } from '@swapless/core';
import { simulate } from '@swapless/sim';
import { parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { devicesText, placementText } from '../devices-text.js';
import {
  chosenLatencyModel,
  LATENCY_MODEL_HELP,
  latencyModelFlags,
  latencyModelJson,
} from '../latency-model.js';
import { cpuSourceLabel } from '../modelled-cpu.js';
import { table } from '../output.js';
import {
  type PreparedTenant,
  prepareTenants,
  profilingOptions,
  readWorkloadFile,
  tenantClasses,
} from '../workload-file.js';

const help = `Usage: swapless plan WORKLOAD.json [--latency-model ID|PATH] [--latency-model-options JSON]
                     [--no-simulate] [--json]

For each tenant of the workload, the best (cut point, CPU cores) under the latency model, its predicted mean
latency, and the same for the baselines — default (whole model on the Edge TPU, as the default compiler does),
cpu (CPU only), fixed (the cut nearest half the MACs) — each also run in the discrete-event simulator. With
phases, every phase's rates are planned separately.

A model of which nothing maps to the Edge TPU (a float model, or a first op the Edge TPU cannot run) is a
CPU-only tenant: cut 0, planned for CPU cores like the others; the output says so and why. A model with a custom
op TFLite cannot run here, or a compiled *_edgetpu.tflite (the Edge TPU is emulated here: give the model that
was passed to edgetpu_compiler), is refused before anything is profiled.

TPU stage times are EMULATED (Edge TPU device model, the workload's "device"); CPU stage times are MEASURED on
this machine (profiles cached under $SWAPLESS_CACHE_DIR/profiles: the first run profiles each model, later runs
answer from the cache). Simulated latencies are virtual-time results of those inputs.

Options:
${LATENCY_MODEL_HELP}
  --no-simulate       skip the simulations (prediction only)
  --repetitions N     timed runs per CPU measurement when profiling (default 20; profiles are cached)
  --max-cuts N        candidate cuts per model when profiling (default 12)
  --cpu PROFILE       host (default: the workload's cpu.profile), devboard-a53, rpi4-a72: CPU stages modelled
                      for that CPU instead of measured (docs/cpu-profiles.md)
  --json              print the plans as JSON (docs/cli.md)
  -h, --help          show this help

Workload format: docs/cli.md and the JSON Schema WORKLOAD_JSON_SCHEMA in @swapless/core.`;

export const planCommand: Command = {
  name: 'plan',
  summary: 'best cut and cores per tenant for a workload vs. baselines, predicted and simulated',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('plan', argv, {
      ...latencyModelFlags,
      'no-simulate': { type: 'boolean', default: false },
      ...profilingOptions,
    });
    const [path] = positionals('plan', pos, ['workload']);
    const { workload, warnings } = await readWorkloadFile(path!);
    for (const w of warnings) io.err(`warning: ${w}`);
    const started = performance.now();
    const latency = await chosenLatencyModel(values);
    const { model } = latency;

    const tenantsPrepared = await prepareTenants(workload, values);
    const classes = tenantClasses(tenantsPrepared);
    const cpuSource = cpuSourceLabel(tenantsPrepared);
    const prepared = performance.now();

    const simulator = values['no-simulate'] ? undefined : workloadSimulator(workload);
    const starts = [0, ...workload.phases.map((p) => p.atS)];
    const phases: { atS: number; rates: Record<string, number>; plan: PlanResult }[] = [];
    for (const atS of starts) {
      const rates = ratesAt(workload, atS);
      const tenants: PlannedTenant[] = tenantsPrepared.map(({ model: _model, ...t }) => ({
        ...t,
        rate: rates[t.name]!,
      }));
      phases.push({
        atS,
        rates,
        plan: planWorkload(tenants, workload.cpu.cores, model, {
          device: workload.device,
          ...(workload.devices !== undefined ? { devices: workload.devices } : {}),
          ...(simulator ? { simulate: simulator } : {}),
        }),
      });
    }
    const finished = performance.now();
    const result = {
      workload: path!,
      device: workload.device,
      ...(workload.devices !== undefined ? { devices: workload.devices } : {}),
      cores: workload.cpu.cores,
      ...latencyModelJson(latency),
      cpuProfile: cpuSource.profile,
      sources: { tpu: 'emulated', cpu: cpuSource.source, simulated: simulator !== undefined },
      tenants: classes.json,
      timing: { prepareMs: prepared - started, planMs: finished - prepared },
      phases: phases.map((p) => phaseJson(p, workload, tenantsPrepared)),
    };
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    const lines = [
      `${path} on ${devicesText(workload)} with ${workload.cpu.cores} CPU cores — latency model ${latency.label} (TPU emulated, ${cpuSource.text}${simulator ? ', simulated check' : ''})`,
      ...classes.lines.map((l) => `  ${l}: cut 0 only, planned for CPU cores like the others`),
    ];
    for (const p of result.phases) lines.push(...phaseLines(p, starts.length > 1));
    lines.push(
      '',
      `answered in ${((finished - started) / 1000).toFixed(2)} s (${((prepared - started) / 1000).toFixed(2)} s preparing catalogs)`,
    );
    io.out(lines.join('\n'));
    return 0;
  },
};

/** The simulator `plan` checks each plan with: the workload's duration and seed, the first 10 % (≤ 5 s) warm-up. */
function workloadSimulator(workload: Workload): Simulator {
  return (system) => {
    const r = simulate(system, {
      durationMs: workload.durationS * 1000,
      warmupMs: Math.min(5000, workload.durationS * 100),
      seed: workload.seed,
    });
    return simulatedSystem(r);
  };
}

/** One phase of `--json`: its rates, the search, and every policy's plan per tenant. */
function phaseJson(
  p: { atS: number; rates: Record<string, number>; plan: PlanResult },
  workload: Workload,
  tenantsPrepared: readonly PreparedTenant[],
) {
  return {
    atS: p.atS,
    rates: p.rates,
    search: p.plan.search,
    plans: p.plan.plans.map((pl) => ({
      policy: pl.policy,
      reason: pl.reason ?? null,
      // SwapLess with SLOs: whether they are met, what is admitted, what they changed (docs/controller.md).
      ...(pl.slo ? { slo: pl.slo } : {}),
      predictedMeanMs: pl.prediction?.meanResponseMs ?? null,
      simulatedMeanMs: pl.simulated?.meanResponseMs ?? null,
      // Several devices: each device's tenants and predicted Edge TPU utilisation.
      ...(pl.devices !== undefined ? { devices: pl.devices } : {}),
      tenants:
        pl.choices?.map((c, i) => ({
          name: workload.tenants[i]!.name,
          k: c.k,
          n: tenantsPrepared[i]!.catalog.n,
          cores: c.cores,
          mode: c.mode,
          ...(c.device !== undefined ? { device: c.device } : {}),
          predictedMs: pl.prediction?.tenants[i]?.responseMs ?? null,
          // Predicted p95/p99 and share within the tenant's sloMs (the default model's distributions).
          predictedTail: pl.tails?.[i] ?? null,
          simulated: simulatedJson(pl.simulated?.tenants[i]),
          ...(c.admit !== undefined ? { admit: c.admit } : {}),
        })) ?? [],
    })),
  };
}

/** The text of one phase: its rates and search, the plans' table, the plans not possible, the means. */
function phaseLines(p: ReturnType<typeof phaseJson>, phased: boolean): string[] {
  const f = (x: number | null | undefined) =>
    x === null || x === undefined ? '—' : Number.isFinite(x) ? x.toFixed(2) : '∞';
  const lines: string[] = [
    '',
    `${phased ? `phase at ${p.atS} s` : 'rates'}: ${Object.entries(p.rates)
      .map(([n, r]) => `${n} ${r}/s`)
      .join(
        ', ',
      )}  (search: ${p.search.method}, ${p.search.evaluated} configurations, ${p.search.ms.toFixed(0)} ms)`,
  ];
  const rows: (string | number)[][] = [];
  const placed = p.plans.some((pl) => pl.devices !== undefined);
  for (const pl of p.plans) {
    if (pl.reason) continue;
    for (const t of pl.tenants) {
      rows.push([
        pl.policy,
        t.name,
        ...(placed ? [t.device ?? '—'] : []),
        `${t.k}/${t.n}`,
        t.cores === 0 ? '0' : `${t.cores} (${t.mode})`,
        f(t.predictedMs),
        f(t.simulated?.meanMs),
        f(t.predictedTail?.p99Ms),
        f(t.simulated?.p99Ms),
        t.predictedTail?.withinSlo == null
          ? '—'
          : `${(100 * t.predictedTail.withinSlo).toFixed(1)} % ≤ ${t.predictedTail.sloMs} ms${t.predictedTail.sloMet ? ' ✓' : ' ✗'}`,
        t.simulated?.withinSlo == null
          ? '—'
          : `${(100 * t.simulated.withinSlo).toFixed(1)} % ${t.predictedTail?.sloPercentile ?? ''}${t.simulated.sloMet ? ' ✓' : ' ✗'}`,
        'admit' in t && t.admit !== undefined ? `${(100 * t.admit).toFixed(0)} %` : '100 %',
      ]);
    }
  }
  lines.push(
    table(
      [
        'policy',
        'tenant',
        ...(placed ? ['device'] : []),
        'cut k/n',
        'cores',
        'pred. ms',
        'sim. mean',
        'pred. p99',
        'sim. p99',
        'pred. SLO',
        'sim. SLO',
        'admitted',
      ],
      rows,
    ),
  );
  for (const pl of p.plans) if (pl.reason) lines.push(`  ${pl.policy.padEnd(8)} not possible: ${pl.reason}`);
  for (const pl of p.plans) {
    if (pl.devices) lines.push(`  ${pl.policy.padEnd(8)} ${placementText(pl.devices)}`);
    if ('slo' in pl && pl.slo?.reason) lines.push(`  ${pl.policy.padEnd(8)} SLOs: ${pl.slo.reason}`);
  }
  const def = p.plans.find((x) => x.policy === 'default');
  lines.push(
    ...p.plans
      .filter((x) => !x.reason)
      .map((x) => {
        const vs =
          x.policy !== 'default' && def?.simulatedMeanMs && x.simulatedMeanMs
            ? ` (${(100 * (1 - x.simulatedMeanMs / def.simulatedMeanMs)).toFixed(1)} % vs default)`
            : '';
        return `  ${x.policy.padEnd(8)} mean: predicted ${f(x.predictedMeanMs)} ms, simulated ${f(x.simulatedMeanMs)} ms${vs}`;
      }),
  );
  return lines;
}

/** A simulated tenant for `--json`: without the CDF quantiles (kept for the SLO attainment, not printed). */
function simulatedJson<T extends { cdfMs?: number[] }>(t: T | undefined): Omit<T, 'cdfMs'> | null {
  if (t === undefined) return null;
  const { cdfMs: _cdf, ...rest } = t;
  return rest;
}
