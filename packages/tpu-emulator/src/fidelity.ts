/**
 * Fidelity of the device model: every published calibration figure (Coral's benchmarks and multiple-model
 * pages) against what the emulator computes for the zoo's architecture-faithful models. Pure and
 * deterministic: the same zoo seed gives the same report. Shape documented in docs/tpu-emulator.md ("Fidelity report").
 */
import { expected, InvalidArgumentError } from '@swapless/core';
import type { TfliteModel } from '@swapless/tflite';
import { compileReport } from './compile.js';
import { resolveProfile } from './profiles.js';
import { VirtualDevice } from './timing.js';
import type {
  BuiltinProfileName,
  CompileReport,
  DeviceProfile,
  FidelityKind,
  FidelityReport,
  FidelityRow,
  ProfileInput,
} from './types.js';

/** Acceptance tolerance of the fidelity report, percent. */
export const FIDELITY_TOLERANCE_PCT = 15;

const BENCHMARKS = 'coral.ai/docs/edgetpu/benchmarks, Table 1';
const SWAPPING = 'coral.ai/docs/edgetpu/multiple-edgetpu: alternating / co-compiled MobileNet v1 + v2';

/** The zoo models the published figures are for (names of `@swapless/zoo`). */
export type FidelityModelName =
  | 'mobilenet_v1'
  | 'mobilenet_v2'
  | 'resnet50_v1'
  | 'inception_v4'
  | 'efficientnet_edgetpu_s';

/** One published calibration figure. */
export interface FidelityTarget {
  readonly kind: FidelityKind;
  /** Zoo model names; two for alternation and co-compiled figures (in that order). */
  readonly models: readonly FidelityModelName[];
  readonly profile: BuiltinProfileName;
  readonly publishedMs: number;
  /** Whether the ±tolerance acceptance applies (the USB 2 alternation figure is only approximate, "~"). */
  readonly acceptance: boolean;
  readonly source: string;
}

function latency(model: FidelityModelName, usb3: number, devboard: number): FidelityTarget[] {
  return [
    {
      kind: 'latency',
      models: [model],
      profile: 'usb3',
      publishedMs: usb3,
      acceptance: true,
      source: BENCHMARKS,
    },
    {
      kind: 'latency',
      models: [model],
      profile: 'devboard',
      publishedMs: devboard,
      acceptance: true,
      source: BENCHMARKS,
    },
  ];
}

const PAIR = ['mobilenet_v1', 'mobilenet_v2'] as const;

/** Every published figure the device model is calibrated against, in report order. */
export const FIDELITY_TARGETS: readonly FidelityTarget[] = Object.freeze([
  ...latency('mobilenet_v1', 2.4, 2.4),
  ...latency('mobilenet_v2', 2.6, 2.6),
  ...latency('resnet50_v1', 49, 56),
  ...latency('inception_v4', 85, 102),
  ...latency('efficientnet_edgetpu_s', 5.1, 5.5),
  {
    kind: 'alternation',
    models: PAIR,
    profile: 'usb3',
    publishedMs: 18.2,
    acceptance: true,
    source: SWAPPING,
  },
  {
    kind: 'alternation',
    models: PAIR,
    profile: 'devboard',
    publishedMs: 21,
    acceptance: true,
    source: SWAPPING,
  },
  {
    kind: 'alternation',
    models: PAIR,
    profile: 'usb2',
    publishedMs: 260,
    acceptance: false,
    source: SWAPPING,
  },
  {
    kind: 'co-compiled',
    models: PAIR,
    profile: 'usb3',
    publishedMs: 7.4,
    acceptance: true,
    source: SWAPPING,
  },
] satisfies FidelityTarget[]);

/** Builds a zoo model by name: `buildZooModel` of `@swapless/zoo` fits as is. */
export type ModelBuilder = (name: FidelityModelName, options: { seed: number }) => TfliteModel;

/** Options of {@link fidelityReport}. */
export interface FidelityOptions {
  /**
   * The zoo's `buildZooModel` (injected: the zoo is a dev dependency of this package, and the CLI, which
   * depends on both, passes it).
   */
  readonly buildModel: ModelBuilder;
  /** Zoo seed. Default 0. */
  readonly seed?: number;
  /** Acceptance tolerance, percent. Default {@link FIDELITY_TOLERANCE_PCT}. */
  readonly tolerancePct?: number;
  /**
   * Profiles to use instead of the built-in ones of the same name (what-if studies of a custom profile;
   * validated). Rows keep the built-in name the published figure belongs to.
   */
  readonly profiles?: Partial<Record<BuiltinProfileName, ProfileInput>>;
}

/** Warm (token already on the device) latency of one model of a unit, ms. */
function warmMs(unit: CompileReport, profile: DeviceProfile, model = 0): number {
  const device = new VirtualDevice(profile);
  device.call(unit, { model });
  return device.call(unit, { model }).breakdown.totalMs;
}

/**
 * Extra cost per A,B pair when two separately compiled units alternate on one device, ms: the steady-state
 * time of an A,B pair minus the warm A and warm B times (each call of the pair finds the other's token).
 */
function alternationMs(a: CompileReport, b: CompileReport, profile: DeviceProfile): number {
  const device = new VirtualDevice(profile);
  device.call(a);
  device.call(b);
  const pair = device.call(a).breakdown.totalMs + device.call(b).breakdown.totalMs;
  return pair - warmMs(a, profile) - warmMs(b, profile);
}

/** A co-compiled A+B unit: one warm call of each model, ms. */
function coCompiledMs(unit: CompileReport, profile: DeviceProfile): number {
  const device = new VirtualDevice(profile);
  device.call(unit, { model: 0 });
  return (
    device.call(unit, { model: 1 }).breakdown.totalMs + device.call(unit, { model: 0 }).breakdown.totalMs
  );
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/**
 * Published vs emulated for every figure of {@link FIDELITY_TARGETS}, on the built-in profiles, with the zoo
 * models of the given seed. JSON-friendly; `pass` is true when every acceptance row is within tolerance.
 *
 * @throws InvalidArgumentError when `buildModel` is not a function.
 */
export function fidelityReport(options: FidelityOptions): FidelityReport {
  if (typeof options?.buildModel !== 'function') {
    throw new InvalidArgumentError(
      expected(
        'a function (name, { seed }) => TfliteModel',
        'fidelityReport options.buildModel',
        options?.buildModel,
      ),
    );
  }
  const seed = options.seed ?? 0;
  const tolerancePct = options.tolerancePct ?? FIDELITY_TOLERANCE_PCT;
  const models = new Map<string, TfliteModel>();
  const model = (name: FidelityModelName): TfliteModel => {
    let m = models.get(name);
    if (m === undefined) {
      m = options.buildModel(name, { seed });
      models.set(name, m);
    }
    return m;
  };
  const profileOf = (name: BuiltinProfileName): DeviceProfile =>
    resolveProfile(options.profiles?.[name] ?? name);
  const units = new Map<string, CompileReport>();
  const unit = (names: readonly FidelityModelName[], profile: DeviceProfile): CompileReport => {
    const key = `${names.join('+')}@${profile.name}`;
    let u = units.get(key);
    if (u === undefined) {
      u = compileReport(names.map(model), profile);
      units.set(key, u);
    }
    return u;
  };

  const rows: FidelityRow[] = FIDELITY_TARGETS.map((t) => {
    const p = profileOf(t.profile);
    let emulatedMs: number;
    if (t.kind === 'latency') emulatedMs = warmMs(unit(t.models, p), p);
    else if (t.kind === 'alternation') {
      emulatedMs = alternationMs(unit([t.models[0]!], p), unit([t.models[1]!], p), p);
    } else emulatedMs = coCompiledMs(unit(t.models, p), p);
    const errorPct = ((emulatedMs - t.publishedMs) / t.publishedMs) * 100;
    return {
      id: `${t.kind}/${t.models.join('+')}/${t.profile}`,
      kind: t.kind,
      models: [...t.models],
      profile: t.profile,
      publishedMs: t.publishedMs,
      emulatedMs: round(emulatedMs, 3),
      errorPct: round(errorPct, 2),
      acceptance: t.acceptance,
      withinTolerance: Math.abs(errorPct) <= tolerancePct,
      source: t.source,
    };
  });
  const accepted = rows.filter((r) => r.acceptance);
  return {
    reportVersion: 1,
    source: 'emulated',
    tolerancePct,
    seed,
    rows,
    pass: accepted.every((r) => r.withinTolerance),
    maxAbsErrorPct: round(Math.max(0, ...accepted.map((r) => Math.abs(r.errorPct))), 2),
  };
}
