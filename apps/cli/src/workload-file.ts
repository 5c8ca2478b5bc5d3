/**
 * What `plan` and `bench` share: reading a workload file, and preparing each tenant's catalog (its model's
 * candidate cuts with emulated TPU stages and measured CPU profiles; one catalog per distinct model).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import {
  assertServable,
  buildCatalog,
  classifyModel,
  type PolicyTenant,
  withDeviceCatalogs,
} from '@swapless/controller';
import {
  type CpuProfileSpec,
  InvalidConfigError,
  parseWorkload,
  resolveCpuProfile,
  SwapLessIoError,
  type Workload,
} from '@swapless/core';
import { readModel } from '@swapless/tflite';
import { intFlag } from './args.js';
import { readBytes, resolveModelPath } from './model-file.js';
import { progressBar, stderrSink } from './progress.js';

/** Flags every workload command takes to control profiling. */
export const profilingOptions = {
  repetitions: { type: 'string' },
  // The CPU the CPU stages are planned for, over the workload's cpu.profile (docs/cpu-profiles.md).
  cpu: { type: 'string' },
  'max-cuts': { type: 'string' },
} as const;

/** Reads and validates a workload file (SwapLessIoError / InvalidConfigError). */
export async function readWorkloadFile(path: string): Promise<{ workload: Workload; warnings: string[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SwapLessIoError(
      `Expected a readable workload file but received ${JSON.stringify(path)} (${(err as Error).message})`,
      { cause: err },
    );
  }
  return parseWorkload(text, path);
}

/** A workload tenant with its catalog and model bytes. */
export interface PreparedTenant extends PolicyTenant {
  model: Uint8Array;
}

/**
 * Builds the catalog of every distinct model of the workload (profiling at 1..min(cpu.cores, machine cores)
 * threads; profiles are cached) with a progress bar on stderr, and returns the tenants in workload order.
 * A model of which nothing maps to the Edge TPU (a float model) makes a CPU-only tenant (catalog kind
 * `cpu-only`); a custom op nothing here runs, or a compiled model (the Edge TPU is emulated here), is refused
 * with `UnsupportedModelError` naming the tenant before any profiling.
 */
export async function prepareTenants(
  workload: Workload,
  flags: { repetitions?: string | undefined; 'max-cuts'?: string | undefined; cpu?: string | undefined },
): Promise<PreparedTenant[]> {
  // Validated here (InvalidConfigError listing the valid profiles), so the cast below is checked.
  const target = resolveCpuProfile(
    flags.cpu ?? workload.cpu.profile,
    flags.cpu !== undefined ? '--cpu' : '/cpu/profile',
  );
  const cpu = (flags.cpu ?? workload.cpu.profile) as CpuProfileSpec;
  const profiling = {
    ...(flags.repetitions !== undefined
      ? { repetitions: intFlag('repetitions', flags.repetitions, 1, 100_000)! }
      : {}),
    ...(flags['max-cuts'] !== undefined
      ? { maxCuts: intFlag('max-cuts', flags['max-cuts'], 2, 10_000)! }
      : {}),
  };
  // A modelled CPU has its own cores; the host's count only bounds what can be measured here.
  const threads = Array.from(
    { length: Math.min(workload.cpu.cores, target.kind === 'model' ? target.cores : availableParallelism()) },
    (_, i) => i + 1,
  );
  // Every model is read and classified before anything is profiled: a tenant the planner cannot serve (a custom
  // op nothing here runs, a compiled model under emulation) is refused at once, by name.
  const files = new Map<string, Uint8Array>();
  const alwaysCpu: string[] = [];
  for (const t of workload.tenants) {
    let bytes = files.get(t.model);
    if (bytes === undefined) {
      bytes = await readBytes(await resolveModelPath(t.model));
      files.set(t.model, bytes);
    }
    const cls = classifyModel(readModel(bytes));
    assertServable(cls, `tenant ${JSON.stringify(t.name)}`);
    // Whatever the cut, part of these models runs on the CPU: each such tenant needs a core of its own.
    if (cls.edgetpuPrefix < cls.n) alwaysCpu.push(t.name);
  }
  if (alwaysCpu.length > workload.cpu.cores) {
    const problem = `/cpu/cores: Expected at least ${alwaysCpu.length} CPU cores for the tenants that always have a CPU stage (${alwaysCpu.join(', ')}: not all of their model maps to the Edge TPU) but received ${workload.cpu.cores}`;
    throw new InvalidConfigError(problem, [problem]);
  }
  const bar = progressBar(stderrSink);
  const byModel = new Map<string, { bytes: Uint8Array; catalog: PolicyTenant['catalog'] }>();
  try {
    for (const t of workload.tenants) {
      if (byModel.has(t.model)) continue;
      const bytes = files.get(t.model)!;
      const built = await buildCatalog(bytes, {
        name: t.model,
        device: workload.devices?.[0]?.profile ?? workload.device,
        threads,
        cpu,
        onProgress: bar,
        ...profiling,
      });
      // Devices of other profiles: the same cuts and CPU stages, the Edge TPU stages re-timed for each profile.
      const catalog = withDeviceCatalogs(bytes, built, workload.devices, workload.device);
      byModel.set(t.model, { bytes, catalog });
    }
  } finally {
    bar.done();
  }
  return workload.tenants.map((t) => {
    const m = byModel.get(t.model)!;
    return {
      name: t.name,
      rate: t.rate,
      catalog: m.catalog,
      model: m.bytes,
      ...(t.sloMs !== undefined ? { sloMs: t.sloMs } : {}),
      ...(t.sloPercentile !== undefined ? { sloPercentile: t.sloPercentile } : {}),
    };
  });
}

/**
 * How each tenant is placed, for the output of `plan` and `bench`: `json` (the JSON `tenants`: name, model,
 * kind, reason) and `lines`, one per tenant that is not partitioned, e.g. `face: CPU-only (float model: nothing
 * maps to the Edge TPU)`.
 */
export function tenantClasses(tenants: readonly PreparedTenant[]): {
  json: { name: string; model: string; kind: string; reason: string | null }[];
  lines: string[];
} {
  return {
    json: tenants.map((t) => ({
      name: t.name,
      model: t.catalog.model,
      kind: t.catalog.kind,
      reason: t.catalog.reason,
    })),
    lines: tenants
      .filter((t) => t.catalog.kind !== 'partitioned')
      .map(
        (t) =>
          `${t.name}: ${t.catalog.kind === 'cpu-only' ? 'CPU-only' : t.catalog.kind} (${t.catalog.reason ?? 'no reason given'})`,
      ),
  };
}
