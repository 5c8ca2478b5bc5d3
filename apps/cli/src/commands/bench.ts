import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import {
  createPolicy,
  POLICY_NAMES,
  type PolicyName,
  type PolicyTenant,
  runPolicyInSim,
} from '@swapless/controller';
import {
  InvalidConfigError,
  isSwapLessError,
  SwapLessIoError,
  UsageError,
  type Workload,
} from '@swapless/core';
import type { HostedLatencyModel } from '@swapless/queueing';
import { defaultCores } from '@swapless/runtime';
import { CDF_LEVELS } from '@swapless/sim';
import { choiceFlag, intFlag, parseCommand, positionals } from '../args.js';
import { type LiveRun, runPolicyLive } from '../bench-live.js';
import type { Command } from '../command.js';
import { devicesText, placementText } from '../devices-text.js';
import { chosenLatencyModel, latencyModelFlags, latencyModelJson } from '../latency-model.js';
import { assertHostCpuForLive, cpuSourceLabel } from '../modelled-cpu.js';
import { type Output, table } from '../output.js';
import { benchSlos } from '../slo-report.js';
import { lineChart } from '../svg.js';
import {
  type PreparedTenant,
  prepareTenants,
  profilingOptions,
  readWorkloadFile,
  tenantClasses,
} from '../workload-file.js';

const help = `Usage: swapless bench WORKLOAD.json [--policies default,cpu,fixed,swapless,swapless+,oracle] [--mode sim|live]
                      [--latency-model ID|PATH] [--latency-model-options JSON] [--out DIR] [--json]

Runs each policy on the same arrivals (same seed) and reports, per policy and tenant, mean, p50, p95, p99,
throughput, rejected requests and reconfigurations, the reduction of mean latency against "default" (the whole
model on the Edge TPU, as the default compiler does) and the ratio to "oracle" (the best static configuration
found in the simulator). A tenant whose model has nothing that maps to the Edge TPU (a float model) is CPU-only
in every policy (the output says so and why); a custom op TFLite cannot run here, or a compiled *_edgetpu.tflite,
is refused before anything is profiled.

  --mode sim    (default) the discrete-event simulator in virtual time: TPU emulated, CPU times measured
                profiles; a 60 s workload takes seconds
  --mode live   the real runtime: real TFLite CPU stages on worker threads, the Edge TPU emulated in real time;
                takes the workload's durationS per policy in wall-clock time. Timing-only by default (the TPU
                part is not computed, only timed); --functional also computes each head on the CPU so results are
                real — on a small machine that CPU work competes with the CPU stages and dominates latency.
                The runtime keeps one core for its main thread (event loop, emulated TPU stage): when the
                workload asks for more cores than the machine's cores − 1, the CPU stages get cores − 1 and the
                policies plan with that (said in the output). Each live run is also simulated with the same cores
                and seed, and the output gives live vs simulated

Options:
  --policies LIST  comma-separated, any of ${POLICY_NAMES.join(', ')} (default: all)
  --functional     with --mode live: compute the TPU heads on the CPU too (correct outputs, slower)
  --cores N        CPU cores for the CPU stages instead of the workload's cpu.cores (both modes; live: not
                   reduced, even if the main thread then competes with the CPU stages)
  --latency-model M
                   the model the swapless and swapless+ policies plan with: mg1-default (default), an installed plugin's
                   model id or package name, or a path to a plugin package (\`swapless plugins list\`)
  --latency-model-options JSON
                   options of that model, a JSON object checked against its options schema
  --out DIR        write DIR/report.md, DIR/latency-over-time.svg (with reconfiguration marks), DIR/cdf.svg,
                   DIR/result.json
  --repetitions N  timed runs per CPU measurement when profiling (default 20; profiles are cached)
  --max-cuts N     candidate cuts per model when profiling (default 12)
  --cpu PROFILE    host (default: the workload's cpu.profile), devboard-a53, rpi4-a72: CPU stages modelled for
                   that CPU instead of measured (sim mode only; docs/cpu-profiles.md)
  --json           print the result as JSON (docs/cli.md)
  -h, --help       show this help`;

type Run = LiveRun | ReturnType<typeof runPolicyInSim>;

export const benchCommand: Command = {
  name: 'bench',
  summary:
    'run policies (swapless, swapless+, default, cpu, fixed, oracle) on a workload, simulated or live; report and plots',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('bench', argv, {
      policies: { type: 'string' },
      mode: { type: 'string' },
      out: { type: 'string' },
      ...profilingOptions,
      functional: { type: 'boolean', default: false },
      cores: { type: 'string' },
      ...latencyModelFlags,
    });
    const [path] = positionals('bench', pos, ['workload']);
    const mode = choiceFlag('mode', values.mode, ['sim', 'live'] as const) ?? 'sim';
    const policies = policiesFlag(values.policies);
    const latency = await chosenLatencyModel(values);
    const { workload: asRead, warnings } = await readWorkloadFile(path!);
    for (const w of warnings) io.err(`warning: ${w}`);
    const { workload, coresRequested, coresNote } = benchCores(
      mode,
      intFlag('cores', values.cores, 1, 4096),
      asRead,
      io,
    );

    assertHostCpuForLive(mode, values.cpu ?? workload.cpu.profile);
    if (mode === 'live' && (workload.devices?.length ?? 0) > 1) {
      const problem = `/devices: Expected one device for --mode live but received ${workload.devices!.length}: several Edge TPUs are benchmarked in simulation (--mode sim)`;
      throw new InvalidConfigError(problem, [problem]);
    }
    const tenants = await prepareTenants(workload, values);
    const classes = tenantClasses(tenants);
    const cpuSource = cpuSourceLabel(tenants);
    const functional = values.functional === true;
    const { runs, simulated, skipped } = await runPolicies(
      policies,
      { mode, workload, tenants, latency, functional },
      io,
    );
    const result = {
      workload: path!,
      mode,
      source:
        mode === 'sim'
          ? `simulated (TPU emulated, ${cpuSource.source === 'measured' ? 'CPU profiles measured' : cpuSource.text})`
          : `measured (TPU emulated in real time, ${functional ? 'functional' : 'timing-only'})`,
      device: workload.device,
      ...(workload.devices !== undefined ? { devices: workload.devices } : {}),
      ...latencyModelJson(latency),
      cores: workload.cpu.cores,
      cpuProfile: cpuSource.profile,
      coresRequested,
      coresNote,
      durationS: workload.durationS,
      seed: workload.seed,
      tenants: classes.json,
      policies: policyResults(runs, mode, simulated, tenants, workload.cpu.cores),
      skipped,
    };
    const { summary, perTenant } = benchTables(result.policies, mode);

    if (values.out !== undefined) {
      await writeBenchOut(resolve(values.out), runs, result, [
        `# SwapLess bench — ${path}`,
        '',
        `Mode: ${mode} — ${result.source}. Device ${workload.device}, ${workload.cpu.cores} CPU cores, ${workload.durationS} s, seed ${workload.seed}. Latency model ${latency.label}.`,
        ...(coresNote === null ? [] : ['', `Note: ${coresNote}.`]),
        ...classes.lines.flatMap((l, i) => [
          ...(i === 0 ? [''] : []),
          `- ${l}: no Edge TPU stage in any policy`,
        ]),
        '',
        markdownTable(summary),
        '',
        ...skipped.map((x) => `- ${x.policy}: not run — ${x.reason}`),
        '',
        markdownTable(perTenant),
        '',
        '![latency over time](latency-over-time.svg)',
        '',
        '![latency CDF](cdf.svg)',
        '',
      ]);
    }
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    io.out(
      [
        `${path} — ${result.source}; ${devicesText(workload)}, ${workload.cpu.cores} cores, ${workload.durationS} s, seed ${workload.seed}; latency model ${latency.label}`,
        ...(coresNote === null ? [] : [`note: ${coresNote}`]),
        ...classes.lines.map((l) => `${l}: no Edge TPU stage in any policy`),
        summary,
        ...skipped.map((x) => `  ${x.policy}: not run — ${x.reason}`),
        ...result.policies.flatMap((p) =>
          p.devices !== undefined ? [`  ${p.policy.padEnd(8)} ${placementText(p.devices)}`] : [],
        ),
        '',
        perTenant,
        values.out ? `\nreport: ${join(resolve(values.out), 'report.md')}` : '',
      ].join('\n'),
    );
    return 0;
  },
};

/** `--policies`: the comma-separated list (default: every policy), each one checked. */
function policiesFlag(flag: string | undefined): PolicyName[] {
  const policies = (flag ?? POLICY_NAMES.join(',')).split(',').map((s) => s.trim()) as PolicyName[];
  for (const p of policies) {
    if (!(POLICY_NAMES as readonly string[]).includes(p)) {
      throw new UsageError(
        `Expected policies from ${POLICY_NAMES.join(', ')} for --policies but received ${JSON.stringify(p)}`,
      );
    }
  }
  return policies;
}

/**
 * The cores the CPU stages get: `--cores`, else the workload's; live mode without `--cores` keeps one of the
 * machine's cores for the runtime's main thread, and says so (`coresNote`, also on stderr).
 */
function benchCores(
  mode: 'sim' | 'live',
  coresFlag: number | undefined,
  asRead: Workload,
  io: Output,
): { workload: Workload; coresRequested: number; coresNote: string | null } {
  const coresRequested = asRead.cpu.cores;
  let cores = coresFlag ?? coresRequested;
  let coresNote: string | null = null;
  if (mode === 'live' && coresFlag === undefined && coresRequested > defaultCores()) {
    // The runtime's main thread (event loop, emulated TPU stage, arrival loop) needs a core of its own: plan,
    // run and simulate with the cores the CPU stages really get, so the plan is the one that runs.
    cores = defaultCores();
    coresNote =
      `the runtime keeps one of this machine's ${availableParallelism()} cores for its main thread: the CPU ` +
      `stages get ${cores} core${cores === 1 ? '' : 's'}, not the workload's ${coresRequested}; policies plan ` +
      `and the simulated comparison runs with ${cores} (--cores ${coresRequested} overrides)`;
    io.err(`bench: note: ${coresNote}`);
  }
  const workload = cores === coresRequested ? asRead : { ...asRead, cpu: { ...asRead.cpu, cores } };
  return { workload, coresRequested, coresNote };
}

/** What running the policies needs: the mode, the workload (with the cores the CPU stages get), its tenants. */
interface BenchSetup {
  mode: 'sim' | 'live';
  workload: Workload;
  tenants: PreparedTenant[];
  latency: HostedLatencyModel;
  functional: boolean;
}

/**
 * Runs each policy on the workload, simulated or live (live runs are also simulated with the same cores and
 * arrivals: `simulated`, mean response by policy name). A policy that cannot run the workload is `skipped`.
 */
async function runPolicies(
  policies: readonly PolicyName[],
  { mode, workload, tenants, latency, functional }: BenchSetup,
  io: Output,
): Promise<{ runs: Run[]; simulated: Map<string, number>; skipped: { policy: string; reason: string }[] }> {
  const durationMs = workload.durationS * 1000;
  const phases = workload.phases.map((p) => ({ atS: p.atS, rates: p.rates }));
  const runs: Run[] = [];
  /** Live mode: the same policy simulated with the same cores and arrivals, by policy name. */
  const simulated = new Map<string, number>();
  const skipped: { policy: string; reason: string }[] = [];
  /** A fresh policy (policies keep state: rate estimators, hysteresis); swapless plans with the chosen model. */
  const makePolicy = (name: PolicyName) =>
    name === 'oracle'
      ? createPolicy('oracle', { seed: workload.seed, phases, durationMs: Math.min(durationMs, 120_000) })
      : name === 'swapless' || name === 'swapless+'
        ? createPolicy(name, { model: latency.model })
        : createPolicy(name);
  for (const name of policies) {
    io.err(`bench: ${name} (${mode === 'sim' ? 'simulated' : `live, ${workload.durationS} s`})…`);
    const policy = makePolicy(name);
    const ptenants: PolicyTenant[] = tenants.map(({ model: _model, ...t }) => t);
    const simWorkload = {
      tenants: ptenants,
      cores: workload.cpu.cores,
      device: workload.device,
      ...(workload.devices !== undefined ? { devices: workload.devices } : {}),
      phases,
      durationMs,
      seed: workload.seed,
    };
    try {
      if (mode === 'live') {
        const twin = makePolicy(name);
        simulated.set(name, runPolicyInSim(simWorkload, twin).meanResponseMs);
      }
      runs.push(
        mode === 'sim'
          ? runPolicyInSim(simWorkload, policy)
          : await runPolicyLive(policy, tenants, {
              cores: workload.cpu.cores,
              device: workload.device,
              durationMs,
              seed: workload.seed,
              phases,
              cdfLevels: CDF_LEVELS,
              functional,
            }),
      );
    } catch (err) {
      // A policy that cannot run this workload (e.g. CPU-only with fewer cores than tenants) is reported, not fatal.
      if (!isSwapLessError(err)) throw err;
      skipped.push({ policy: name, reason: err.message });
      io.err(`bench: ${name} cannot run this workload: ${err.message}`);
    }
  }
  return { runs, simulated, skipped };
}

/** The `policies` of the result: each run against default and oracle (and, live, against its simulated twin). */
function policyResults(
  runs: readonly Run[],
  mode: 'sim' | 'live',
  simulated: ReadonlyMap<string, number>,
  tenants: readonly PreparedTenant[],
  cores: number,
) {
  const mean = (p: string) => runs.find((r) => r.policy === p)?.meanResponseMs;
  const def = mean('default');
  const oracle = mean('oracle');
  const slos = (r: Run) =>
    benchSlos(
      tenants,
      cores,
      r.decisions.at(-1)?.tenants,
      r.tenants.map((t, j) => ({ p95Ms: t.p95Ms, p99Ms: t.p99Ms, cdf: cdfOf(r, j) })),
    );
  const one = (r: Run, slo: ReturnType<typeof slos>) => ({
    policy: r.policy,
    meanResponseMs: r.meanResponseMs,
    ...(mode === 'live'
      ? {
          simulatedMeanResponseMs: simulated.get(r.policy) ?? null,
          liveVsSimulatedPct: simulated.has(r.policy)
            ? 100 * (r.meanResponseMs / simulated.get(r.policy)! - 1)
            : null,
        }
      : {}),
    reductionVsDefaultPct: def && r.policy !== 'default' ? 100 * (1 - r.meanResponseMs / def) : null,
    ratioToOracle: oracle ? r.meanResponseMs / oracle : null,
    rejected: r.rejected,
    reconfigurations: r.reconfigurations,
    // Several devices (simulated): each device's tenants at the end of the run and its Edge TPU utilisation.
    ...('sim' in r && r.sim.devices !== undefined ? { devices: r.sim.devices } : {}),
    tenants: r.tenants.map((t, j) => ({
      name: t.name,
      meanMs: t.meanMs,
      p50Ms: t.p50Ms,
      p95Ms: t.p95Ms,
      p99Ms: t.p99Ms,
      throughputPerS: t.throughputPerS,
      rejected: t.rejected,
      stages: stagesOf(r, j),
      // With an sloMs: the share within it, predicted and run, and whether the percentile is met.
      ...(slo[j] ? { slo: slo[j] } : {}),
      ...('shed' in t && t.shed !== undefined ? { shed: t.shed } : {}),
    })),
    // The documented JSON: one { k, cores, mode } per tenant (and its device, with several), in the workload's
    // tenant order.
    decisions: r.decisions.map((d) => ({
      atMs: d.atMs,
      choices: d.tenants.map(({ k, cores, mode, device }) => ({
        k,
        cores,
        mode,
        ...(device !== undefined ? { device } : {}),
      })),
      ...(d.sets === undefined ? {} : { sets: d.sets }),
    })),
  });
  return runs.map((r) => one(r, slos(r)));
}

/** The text tables: one row per policy (`summary`) and one per policy and tenant (`perTenant`). */
function benchTables(
  policies: ReturnType<typeof policyResults>,
  mode: 'sim' | 'live',
): { summary: string; perTenant: string } {
  const f = (x: number | null | undefined, d = 2) =>
    x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d);
  // A signed percentage; `sign` −1 shows a reduction (positive value) as "−".
  const pct = (x: number | null | undefined, sign: 1 | -1) =>
    x === null || x === undefined ? '—' : `${x * sign >= 0 ? '+' : '−'}${f(Math.abs(x), 1)} %`;
  const summary = table(
    [
      'policy',
      'mean ms',
      ...(mode === 'live' ? ['sim ms', 'live vs sim'] : []),
      'vs default',
      'vs oracle',
      'rejected',
      'reconfig.',
    ],
    policies.map((p) => [
      p.policy,
      f(p.meanResponseMs),
      ...(mode === 'live' ? [f(p.simulatedMeanResponseMs), pct(p.liveVsSimulatedPct, 1)] : []),
      pct(p.reductionVsDefaultPct, -1),
      p.ratioToOracle === null ? '—' : `${f(p.ratioToOracle, 3)}×`,
      p.rejected,
      p.reconfigurations,
    ]),
  );
  const perTenant = table(
    ['policy', 'tenant', 'mean', 'p50', 'p95', 'p99', 'req/s', 'rejected', 'SLO (pred. / run)'],
    policies.flatMap((p) =>
      p.tenants.map((t) => [
        p.policy,
        t.name,
        f(t.meanMs),
        f(t.p50Ms),
        f(t.p95Ms),
        f(t.p99Ms),
        f(t.throughputPerS, 1),
        t.rejected + (t.shed ?? 0),
        t.slo === undefined
          ? '—'
          : `${t.slo.percentile} ≤ ${t.slo.sloMs}: ${t.slo.predictedWithinSlo === null ? '—' : f(100 * t.slo.predictedWithinSlo, 1)} / ${f(100 * t.slo.withinSlo, 1)} % ${t.slo.met ? '✓' : '✗'}${t.slo.admit < 1 ? ` (admits ${f(100 * t.slo.admit, 0)} %)` : ''}`,
      ]),
    ),
  );
  return { summary, perTenant };
}

/**
 * `--out DIR`: the latency-over-time chart (swapless's reconfigurations marked), the CDF chart, result.json and
 * report.md (`report`, its lines). SwapLessIoError when DIR cannot be written.
 */
async function writeBenchOut(
  dir: string,
  runs: readonly Run[],
  result: { source: string },
  report: readonly string[],
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const marks =
      runs
        .find((r) => r.policy === 'swapless')
        ?.decisions.slice(1)
        .map((d) => d.atMs / 1000) ?? [];
    await writeFile(
      join(dir, 'latency-over-time.svg'),
      lineChart(
        runs.map((r) => ({
          name: r.policy,
          points: r.series.meanResponseMs.map((y, i) => [((i + 0.5) * r.series.windowMs) / 1000, y] as const),
        })),
        {
          title: `Mean latency per ${runs[0]?.series.windowMs ?? 1000} ms (${result.source})`,
          xLabel: 'time (s)',
          yLabel: 'mean latency (ms)',
          marks,
          logY: true,
        },
      ),
    );
    await writeFile(
      join(dir, 'cdf.svg'),
      lineChart(
        runs.flatMap((r, ri) =>
          r.tenants.map((t, j) => ({
            name: `${r.policy}/${t.name}`,
            color: ri,
            dash: ['', '6,3', '2,3', '8,3,2,3'][j % 4]!,
            points: CDF_LEVELS.map((q, i) => [cdfOf(r, j)[i] ?? Number.NaN, q] as const),
          })),
        ),
        {
          title: `Latency CDF per policy and tenant (${result.source})`,
          xLabel: 'latency (ms)',
          yLabel: 'fraction of requests',
        },
      ),
    );
    await writeFile(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(join(dir, 'report.md'), report.join('\n'));
  } catch (err) {
    throw new SwapLessIoError(
      `Expected a writable directory for --out but writing to ${JSON.stringify(dir)} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Response-time quantiles at CDF_LEVELS of tenant j of a run (live runs keep them, simulated ones in `sim`). */
function cdfOf(run: Run, j: number): readonly number[] {
  return 'sim' in run ? (run.sim.tenants[j]?.cdfMs ?? []) : (run.tenants[j]?.cdfMs ?? []);
}

/** Per-stage means of tenant j (simulated: the simulator's; live: from the runtime's traces). */
function stagesOf(run: Run, j: number): Record<string, number> | null {
  if ('sim' in run) {
    const t = run.sim.tenants[j];
    if (t === undefined) return null;
    return {
      tpuWaitMs: t.tpuWaitMs,
      tpuServiceMs: t.tpuServiceMs,
      reloadFraction: t.switchFraction,
      cpuWaitMs: t.cpuWaitMs,
      cpuServiceMs: t.cpuServiceMs,
    };
  }
  return { ...(run.tenants[j]?.stages ?? {}) };
}

/** Turns the CLI's aligned text table into a Markdown table. */
function markdownTable(text: string): string {
  const [header, , ...rows] = text.split('\n');
  const cells = (line: string) => line.trim().split(/\s{2,}/);
  const h = cells(header!);
  return [
    `| ${h.join(' | ')} |`,
    `|${h.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${cells(r).join(' | ')} |`),
  ].join('\n');
}
