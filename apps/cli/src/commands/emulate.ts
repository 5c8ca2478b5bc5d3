import { readFile } from 'node:fs/promises';
import { classifyModel, edgetpuPart } from '@swapless/controller';
import { type CpuProfileSpec, InvalidCutError, SwapLessIoError, UsageError } from '@swapless/core';
import { analyzeModel, readModel, splitModel, type TfliteModel } from '@swapless/tflite';
import {
  BUILTIN_PROFILE_NAMES,
  type CallBreakdown,
  type CompileReport,
  callBreakdown,
  compileReport,
  type DeviceProfile,
  fidelityReport,
  getProfile,
  parseProfileJson,
  VirtualDevice,
} from '@swapless/tpu-emulator';
import { buildZooModel } from '@swapless/zoo';
import { intFlag, parseCommand } from '../args.js';
import type { Command } from '../command.js';
import { readBytes, resolveModelPath } from '../model-file.js';
import { modelledSuffix, modelledSuffixLine } from '../modelled-cpu.js';
import { formatBytes, type Output, table } from '../output.js';

const help = `Usage: swapless emulate MODEL [--device D] [--cut K] [--cpu PROFILE] [--json]
       swapless emulate --alternate A,B [--device D] [--json]
       swapless emulate --fidelity [--json]

Times the Edge TPU part of a model on the calibrated Edge TPU device model (no device needed). Every figure is
EMULATED: it comes from the device model (docs/tpu-emulator.md), not from a measurement.

  MODEL              the compile report of ops [0,K) (parameters cached on chip, remaining, streamed per call)
                     and the per-call breakdown: overhead, input, output, compute, streamed parameters, and the
                     reload of cached parameters when another model ran in between (first call vs steady state)
  --alternate A,B    two models compiled separately taking turns (each call reloads the other's cached
                     parameters: inter-model swapping) against the same two co-compiled (one caching token)
  --fidelity         every published Coral latency in the calibration table against the emulator, per profile

Options:
  --device D   usb3 (default), usb2, pcie, devboard, or a profile JSON file (schema in docs/tpu-emulator.md)
  --cut K      cut point: the Edge TPU runs ops [0,K) (default: the whole Edge-TPU-mappable prefix)
  --cpu P      also the CPU part [K,n) modelled on CPU profile P (devboard-a53, rpi4-a72; docs/cpu-profiles.md)
  --json       print the result as JSON (docs/cli.md)
  -h, --help   show this help

MODEL, A and B are .tflite paths or zoo names (swapless zoo --help). A model of which nothing maps to the Edge
TPU (a float model, or a first op the Edge TPU cannot run) and a compiled *_edgetpu.tflite (give the model that
was passed to edgetpu_compiler) are refused with exit status 1 and the reason.`;

async function loadProfile(spec: string | undefined): Promise<DeviceProfile> {
  if (spec === undefined) return getProfile('usb3');
  if ((BUILTIN_PROFILE_NAMES as readonly string[]).includes(spec)) return getProfile(spec);
  if (!spec.endsWith('.json')) {
    throw new UsageError(
      `Expected one of ${BUILTIN_PROFILE_NAMES.join(', ')} or a .json profile file for --device but received ${JSON.stringify(spec)}`,
    );
  }
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch (err) {
    throw new SwapLessIoError(
      `Expected a readable profile file for --device but received ${JSON.stringify(spec)} (${(err as Error).message})`,
      { cause: err },
    );
  }
  return parseProfileJson(text);
}

async function load(spec: string): Promise<TfliteModel> {
  return readModel(await readBytes(await resolveModelPath(spec)));
}

/**
 * The Edge TPU part [0,k) of a model; k defaults to the whole mappable prefix. A model of which nothing maps, or
 * a compiled one, is `UnsupportedModelError` (exit 1) with the class sentence; only a cut the user typed can be
 * a usage error (`InvalidCutError`, exit 2).
 */
function tpuPart(
  model: TfliteModel,
  cut: number | undefined,
  spec: string,
): { head: TfliteModel; k: number; n: number } {
  const a = analyzeModel(model);
  const cls = classifyModel(model, a);
  if (cut === undefined || cls.kind === 'compiled') edgetpuPart(cls, spec);
  const k = cut ?? a.edgetpuPrefix.length;
  if (k === 0) {
    throw new InvalidCutError(
      `Expected a cut point between 1 and ${a.n} for the Edge TPU part but received 0 (no op would run on the Edge TPU)`,
    );
  }
  const { head } = splitModel(model, k);
  return { head: head ?? model, k, n: a.n };
}

function compileSummary(r: CompileReport) {
  return {
    mappedOps: r.mappedOps,
    unmappedOps: r.unmappedOps,
    parameterBudgetBytes: r.parameterBudgetBytes,
    onChipCachedBytes: r.onChipCachedBytes,
    onChipRemainingBytes: r.onChipRemainingBytes,
    offChipStreamedBytes: r.offChipStreamedBytes,
  };
}

const f3 = (x: number) => x.toFixed(3);

function breakdownRows(label: string, b: CallBreakdown): (string | number)[] {
  return [
    label,
    f3(b.overheadMs),
    f3(b.inputMs),
    f3(b.outputMs),
    f3(b.computeMs),
    f3(b.streamedMs),
    f3(b.reloadMs),
    f3(b.totalMs),
  ];
}

const BREAKDOWN_HEADERS = [
  'call',
  'overhead',
  'input',
  'output',
  'compute',
  'streamed',
  'reload',
  'total ms',
];

export const emulateCommand: Command = {
  name: 'emulate',
  summary: 'Edge TPU time of a model part on the calibrated device model (emulated), alternation, fidelity',
  help,
  async run(argv, io) {
    const { values, positionals } = parseCommand('emulate', argv, {
      device: { type: 'string' },
      cut: { type: 'string' },
      alternate: { type: 'string' },
      cpu: { type: 'string' },
      fidelity: { type: 'boolean', default: false },
    });
    const modes = [positionals.length > 0, values.alternate !== undefined, values.fidelity].filter(
      Boolean,
    ).length;
    if (modes !== 1 || positionals.length > 1) {
      throw new UsageError(
        'Expected exactly one of MODEL, --alternate A,B or --fidelity for swapless emulate (see --help)',
      );
    }

    if (values.fidelity) return printFidelity(values.json === true, io);

    const profile = await loadProfile(values.device);
    if (values.alternate !== undefined)
      return emulateAlternate(values.alternate, values.cut, profile, values.json === true, io);

    const spec = positionals[0]!;
    const model = await load(spec);
    const cut = intFlag('cut', values.cut, 0, Number.MAX_SAFE_INTEGER);
    const { head, k, n } = tpuPart(model, cut, spec);
    const report = compileReport(head, profile);
    const first = callBreakdown(report, profile, { reload: true });
    const steady = callBreakdown(report, profile);
    const cpu = values.cpu === undefined ? undefined : modelledSuffix(model, values.cpu as CpuProfileSpec, k);
    const result = {
      source: 'emulated' as const,
      model: spec,
      device: profile.name,
      k,
      n,
      compile: compileSummary(report),
      first,
      steady,
      ...(cpu ? { cpu } : {}),
    };
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    io.out(
      [
        `${spec}: Edge TPU part ops [0,${k}) of ${n} on ${profile.name} (emulated)`,
        `  compile: ${report.mappedOps} ops mapped${report.unmappedOps ? `, ${report.unmappedOps} on the CPU` : ''}; ` +
          `on-chip cached ${formatBytes(report.onChipCachedBytes)}, remaining ${formatBytes(report.onChipRemainingBytes)}, ` +
          `streamed per call ${formatBytes(report.offChipStreamedBytes)}`,
        table(BREAKDOWN_HEADERS, [
          breakdownRows('first / after a switch', first),
          breakdownRows('steady state', steady),
        ]),
        ...(cpu ? [modelledSuffixLine(cpu, n)] : []),
      ].join('\n'),
    );
    return 0;
  },
};

/** `--fidelity`: emulated against published Edge TPU latencies; exit 1 when a figure is out of tolerance. */
function printFidelity(json: boolean, io: Output): number {
  const report = fidelityReport({ buildModel: buildZooModel });
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return report.pass ? 0 : 1;
  }
  io.out(
    [
      'Emulated vs published Edge TPU latency (zoo models, seed 0; all emulated figures come from the device model)',
      table(
        ['figure', 'profile', 'published ms', 'emulated ms', 'error %', 'ok'],
        report.rows.map((r) => [
          `${r.kind} ${r.models.join('+')}`,
          r.profile,
          r.publishedMs.toFixed(1),
          r.emulatedMs.toFixed(2),
          `${r.errorPct >= 0 ? '+' : ''}${r.errorPct.toFixed(1)}`,
          r.acceptance ? (r.withinTolerance ? 'yes' : 'NO') : '(info)',
        ]),
      ),
      '',
      `max |error| ${report.maxAbsErrorPct.toFixed(1)} % (tolerance ±${report.tolerancePct} %): ${report.pass ? 'pass' : 'FAIL'}`,
    ].join('\n'),
  );
  return report.pass ? 0 : 1;
}

/** `--alternate A,B`: two models taking turns on the device, compiled separately and co-compiled. */
async function emulateAlternate(
  alternate: string,
  cut: string | undefined,
  profile: DeviceProfile,
  json: boolean,
  io: Output,
): Promise<number> {
  if (cut !== undefined)
    throw new UsageError(
      'Expected no --cut with --alternate (each model runs its whole Edge-TPU-mappable prefix)',
    );
  const names = alternate.split(',').map((s) => s.trim());
  if (names.length !== 2 || names.some((n) => n === '')) {
    throw new UsageError(`Expected two models A,B for --alternate but received ${JSON.stringify(alternate)}`);
  }
  const parts = await Promise.all(names.map(async (n) => tpuPart(await load(n), undefined, n).head));
  const [ra, rb] = parts.map((p) => compileReport(p, profile)) as [CompileReport, CompileReport];
  const co = compileReport(parts, profile);
  const alone = [callBreakdown(ra, profile).totalMs, callBreakdown(rb, profile).totalMs] as const;
  const dev = new VirtualDevice(profile);
  dev.call(ra);
  dev.call(rb); // warm: from here on every call follows the other model
  const a = dev.call(ra).breakdown;
  const b = dev.call(rb).breakdown;
  const coDev = new VirtualDevice(profile);
  coDev.call(co, { model: 0 });
  coDev.call(co, { model: 1 });
  const ca = coDev.call(co, { model: 0 }).breakdown;
  const cb = coDev.call(co, { model: 1 }).breakdown;
  const result = {
    source: 'emulated' as const,
    device: profile.name,
    models: names,
    aloneMs: alone,
    alternating: {
      a,
      b,
      pairMs: a.totalMs + b.totalMs,
      switchCostPerPairMs: a.totalMs + b.totalMs - alone[0] - alone[1],
    },
    coCompiled: { a: ca, b: cb, pairMs: ca.totalMs + cb.totalMs, compile: compileSummary(co) },
    separate: { a: compileSummary(ra), b: compileSummary(rb) },
  };
  if (json) {
    io.out(JSON.stringify(result, null, 2));
    return 0;
  }
  io.out(
    [
      `${names[0]} and ${names[1]} taking turns on the Edge TPU (${profile.name}; emulated)`,
      table(BREAKDOWN_HEADERS, [
        breakdownRows(`${names[0]} (separate)`, a),
        breakdownRows(`${names[1]} (separate)`, b),
        breakdownRows(`${names[0]} (co-compiled)`, ca),
        breakdownRows(`${names[1]} (co-compiled)`, cb),
      ]),
      '',
      `  alone:        ${f3(alone[0])} + ${f3(alone[1])} = ${f3(alone[0] + alone[1])} ms per pair`,
      `  alternating:  ${f3(result.alternating.pairMs)} ms per pair (+${f3(result.alternating.switchCostPerPairMs)} ms of parameter reloads)`,
      `  co-compiled:  ${f3(result.coCompiled.pairMs)} ms per pair (one caching token; ${formatBytes(co.offChipStreamedBytes)} streamed per pair round)`,
    ].join('\n'),
  );
  return 0;
}
