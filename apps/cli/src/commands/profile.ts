import { type CpuProfileSpec, resolveCpuProfile, UsageError } from '@swapless/core';
import { type CutSelection, monotonicity, profileModel } from '@swapless/profiler';
import { intFlag, parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { ms } from '../inference.js';
import { readBytes, resolveModelPath } from '../model-file.js';
import { printModelledProfile } from '../modelled-cpu.js';
import { table } from '../output.js';
import { progressBar, stderrSink } from '../progress.js';

const help = `Usage: swapless profile MODEL [--cpu PROFILE] [--threads 1,2] [--cuts auto|all|k1,k2] [--max-cuts N]
                        [--repetitions N] [--warmup N] [--refresh] [--json]

Measures on the real TFLite runtime the CPU time of the suffix [k,n) — the part the CPU runs when ops [0,k) run
on the Edge TPU — and of the prefix [0,k), for each cut point and thread count: on XNNPACK (uint8 parts as their
int8 rewrite), or on TFLite's reference kernels where XNNPACK cannot prepare a part; the first line says which. Profiles are cached
under $SWAPLESS_CACHE_DIR/profiles by model hash, runtime, host and settings; a second run loads the cache.

Options:
  --cpu PROFILE      host (default: measured here), devboard-a53 or rpi4-a72: the times MODELLED for that CPU
                     from the model's ops (docs/cpu-profiles.md), nothing measured; --json gives wholeModelMs
                     and its thread count (wholeModelThreads)
  --threads LIST     thread counts to measure (default 1..cores)
  --cuts C           auto (default: cheap cuts spread over the Edge-TPU-mappable prefix; cut 0 alone when
                     nothing maps, e.g. a float model), all (every cut, any model), or a list k1,k2,…
  --max-cuts N       how many cuts auto picks (default 12)
  --repetitions N    timed invokes per (part, cut, threads) (default 20)
  --warmup N         untimed invokes first (default 3)
  --refresh          measure again even when a cached profile exists
  --json             print the whole profile document (schema in docs/profiler.md)
  -h, --help         show this help

MODEL is a .tflite path or a zoo name. Every time printed is measured.`;

function list(name: string, raw: string, max: number): number[] {
  const values = raw.split(',').map((s) => intFlag(name, s.trim(), 0, max)!);
  if (values.length === 0)
    throw new UsageError(`Expected a comma-separated list for --${name} but received nothing`);
  return values;
}

/** Which kernels ran the measured parts: XNNPACK, its int8 rewrite of uint8 parts, or TFLite's reference kernels. */
function kernelsLabel(profile: {
  cuts: readonly { prefix: PartKernels | null; suffix: PartKernels | null }[];
}): string {
  const parts = profile.cuts.flatMap((c) => [c.prefix, c.suffix]).filter((p): p is PartKernels => p !== null);
  const reference = parts.filter((p) => p.kernels === 'reference').length;
  const int8 = parts.some((p) => p.int8);
  const xnnpack = `XNNPACK${int8 ? ', uint8 parts as int8' : ''}`;
  if (reference === 0) return xnnpack;
  if (reference === parts.length) return "TFLite's reference kernels (XNNPACK could not prepare the model)";
  return `${xnnpack}; ${reference} of ${parts.length} parts on TFLite's reference kernels (XNNPACK could not prepare them)`;
}

interface PartKernels {
  kernels: 'xnnpack' | 'reference';
  int8: boolean;
}

export const profileCommand: Command = {
  name: 'profile',
  summary: 'measure CPU suffix/prefix times per cut point and thread count (cached)',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('profile', argv, {
      threads: { type: 'string' },
      cuts: { type: 'string' },
      'max-cuts': { type: 'string' },
      repetitions: { type: 'string' },
      warmup: { type: 'string' },
      refresh: { type: 'boolean', default: false },
      cpu: { type: 'string' },
    });
    const [spec] = positionals('profile', pos, ['model']);
    const threads = values.threads === undefined ? undefined : list('threads', values.threads, 256);
    if (threads?.includes(0))
      throw new UsageError('Expected thread counts of 1 or more for --threads but received 0');
    const cuts: CutSelection | undefined =
      values.cuts === undefined || values.cuts === 'auto' || values.cuts === 'all'
        ? (values.cuts as CutSelection | undefined)
        : list('cuts', values.cuts, Number.MAX_SAFE_INTEGER);
    if (values.cpu !== undefined && resolveCpuProfile(values.cpu, '--cpu').kind === 'model') {
      await printModelledProfile(
        io,
        await readBytes(await resolveModelPath(spec!)),
        spec!,
        values.cpu as CpuProfileSpec,
        {
          json: values.json === true,
          ...(threads ? { threads } : {}),
          ...(cuts !== undefined ? { cuts } : {}),
          ...(values['max-cuts'] !== undefined
            ? { maxCuts: intFlag('max-cuts', values['max-cuts'], 1, 10_000)! }
            : {}),
        },
      );
      return 0;
    }
    const bar = progressBar(stderrSink);
    let profile: Awaited<ReturnType<typeof profileModel>>;
    try {
      profile = await profileModel(await readBytes(await resolveModelPath(spec!)), {
        name: spec!,
        ...(threads ? { threads } : {}),
        ...(cuts !== undefined ? { cuts } : {}),
        ...(values['max-cuts'] !== undefined
          ? { maxCuts: intFlag('max-cuts', values['max-cuts'], 1, 10_000)! }
          : {}),
        ...(values.repetitions !== undefined
          ? { repetitions: intFlag('repetitions', values.repetitions, 1, 100_000)! }
          : {}),
        ...(values.warmup !== undefined ? { warmup: intFlag('warmup', values.warmup, 0, 100_000)! } : {}),
        refresh: values.refresh,
        onProgress: bar,
      });
    } finally {
      bar.done();
    }
    for (const w of profile.warnings) io.err(`warning: ${w}`);
    if (values.json) {
      io.out(JSON.stringify(profile, null, 2));
      return 0;
    }
    const ts = profile.settings.threads;
    const mono = monotonicity(profile);
    const whole = profile.cuts[0]?.suffix?.measurements ?? [];
    const speedup =
      whole.length >= 2
        ? `; whole model 1→${whole.at(-1)!.threads} threads: ${(whole[0]!.median / whole.at(-1)!.median).toFixed(2)}×`
        : '';
    io.out(
      [
        `${spec} — ${profile.cuts.length} cut(s) × threads ${ts.join(',')}, ${profile.settings.repetitions} repetitions (measured on TFLite ${profile.runtime.tfliteVersion}, ${kernelsLabel(profile)})${profile.cached ? ' — from cache' : ''}`,
        table(
          ['k', 'boundary', ...ts.map((t) => `suffix ${t}t ms`), ...ts.map((t) => `prefix ${t}t ms`)],
          profile.cuts.map((c) => [
            c.k,
            c.boundaryTensors,
            ...ts.map((_, i) => (c.suffix ? ms(c.suffix.measurements[i]!.median) : '—')),
            ...ts.map((_, i) => (c.prefix ? ms(c.prefix.measurements[i]!.median) : '—')),
          ]),
        ),
        `  medians; suffix monotone in k: ${mono.monotone ? 'yes' : `no (${mono.violations.length} of ${mono.pairs} pairs beyond noise)`}${speedup}`,
        profile.cachePath ? `  cache: ${profile.cachePath}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
    return 0;
  },
};
