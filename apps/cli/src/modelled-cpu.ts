/**
 * `swapless profile MODEL --cpu PROFILE` for a modelled CPU (every profile but `host`): the whole model and the
 * cuts' parts on the target, from the analytic CPU model (docs/cpu-profiles.md). Nothing is measured.
 */
import { type CpuProfileSpec, resolveCpuProfile, UsageError } from '@swapless/core';
import {
  type CutSelection,
  cpuOpWork,
  modelCpuProfile,
  modelledOpMs,
  modelledPartMs,
  modelProfileOf,
} from '@swapless/profiler';
import { analyzeModel, type TfliteModel } from '@swapless/tflite';
import { ms } from './inference.js';
import type { Output } from './output.js';
import { table } from './output.js';

/** Prints the modelled profile of `bytes` on `cpu`: JSON (the `ModelledCpuProfile` document) or a table. */
export async function printModelledProfile(
  io: Output,
  bytes: Uint8Array,
  spec: string,
  cpu: CpuProfileSpec,
  options: { json: boolean; threads?: number[]; cuts?: CutSelection; maxCuts?: number },
): Promise<void> {
  const p = await modelCpuProfile(bytes, cpu, {
    name: spec,
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.cuts !== undefined ? { cuts: options.cuts } : {}),
    ...(options.maxCuts !== undefined ? { maxCuts: options.maxCuts } : {}),
  });
  if (options.json) {
    io.out(JSON.stringify(p, null, 2));
    return;
  }
  const ts = p.threads;
  io.out(
    [
      `${spec} — ${p.cuts.length} cut(s) × threads ${ts.join(',')} (EMULATED: modelled for ${p.cpu}, ${p.description}; ${p.basis})`,
      `  whole model on the CPU: ${ms(p.wholeModelMs)} ms at ${p.wholeModelThreads} thread(s); ${p.wholeModel
        .map((w) => `${w.threads}t ${ms(w.ms)}`)
        .join(', ')}`,
      table(
        ['k', ...ts.map((t) => `suffix ${t}t ms`), ...ts.map((t) => `prefix ${t}t ms`)],
        p.cuts.map((c) => [
          c.k,
          ...ts.map((_, i) => (c.suffixMs ? ms(c.suffixMs[i]!) : '—')),
          ...ts.map((_, i) => (c.prefixMs ? ms(c.prefixMs[i]!) : '—')),
        ]),
      ),
    ].join('\n'),
  );
}

/** The CPU part [k,n) of a model on a modelled CPU, for `emulate --cpu`: at 1..cores threads. */
export interface ModelledSuffix {
  profile: string;
  source: 'emulated';
  k: number;
  /** Suffix time per thread count, ms (empty when k = n: nothing runs on the CPU). */
  suffix: { threads: number; ms: number }[];
}

/** The modelled CPU part [k, n) of `model` on `cpu` (`emulate --cpu`). */
export function modelledSuffix(model: TfliteModel, cpu: CpuProfileSpec, k: number): ModelledSuffix {
  const profile = modelProfileOf(cpu);
  const analysis = analyzeModel(model);
  const work = cpuOpWork(model, analysis);
  const suffix =
    k >= analysis.n
      ? []
      : Array.from({ length: profile.cores }, (_, i) => ({
          threads: i + 1,
          ms: modelledPartMs(modelledOpMs(work, profile, i + 1), k, analysis.n),
        }));
  return { profile: profile.name, source: 'emulated', k, suffix };
}

/** One line for `emulate`: the CPU part on the modelled CPU. */
export function modelledSuffixLine(s: ModelledSuffix, n: number): string {
  if (s.suffix.length === 0) return `  CPU part: none (the Edge TPU runs all ${n} ops)`;
  return `  CPU part ops [${s.k},${n}) on ${s.profile} (emulated): ${s.suffix.map((x) => `${x.threads}t ${ms(x.ms)} ms`).join(', ')}`;
}

/**
 * Where the CPU stage times of prepared tenants come from, for the text of `plan` and `bench`: `CPU measured`
 * on the host, `CPU modelled for <profile>` otherwise.
 */
export function cpuSourceLabel(
  tenants: readonly { catalog: { cpu?: { profile: string; source: string } } }[],
): {
  profile: string;
  source: 'measured' | 'emulated';
  text: string;
} {
  const cpu = tenants.find((t) => t.catalog.cpu !== undefined)?.catalog.cpu;
  if (cpu === undefined || cpu.source === 'measured')
    return { profile: 'host', source: 'measured', text: 'CPU measured' };
  return { profile: cpu.profile, source: 'emulated', text: `CPU modelled for ${cpu.profile}` };
}

/**
 * `bench --mode live` runs the CPU stages on this machine: refuse a modelled CPU there (the live runtime does not
 * stretch CPU stages to the target's time), with the way out.
 */
export function assertHostCpuForLive(mode: string, cpu: unknown): void {
  if (mode !== 'live' || cpu === undefined || resolveCpuProfile(cpu, '--cpu').kind === 'host') return;
  throw new UsageError(
    `Expected --cpu host (or none) with --mode live but received ${JSON.stringify(typeof cpu === 'string' ? cpu : (cpu as { name?: string }).name)}: live mode runs the CPU stages on this machine; use --mode sim to plan and simulate for a modelled CPU`,
  );
}
