/**
 * Small, fast networks against the device model: published Edge TPU latencies that are not in the fidelity
 * calibration table (fidelity.ts), split into the figures the small-layer constants were set against
 * (`calibration`), figures used only to check them (`held-out`), and larger networks that must not regress
 * (`large`). Pure and deterministic, like the fidelity report. Sources and table: docs/tpu-emulator.md
 * ("Small, fast models").
 */
import { expected, InvalidArgumentError } from '@swapless/core';
import type { TfliteModel } from '@swapless/tflite';
import { compileReport } from './compile.js';
import { resolveProfile } from './profiles.js';
import { callBreakdown } from './timing.js';
import type { BuiltinProfileName, CallBreakdown, DeviceProfile, ProfileInput } from './types.js';

/** Which role a published figure plays. */
export type SmallModelSet = 'calibration' | 'held-out' | 'large';

/** Acceptance tolerance per set, percent (`large`: the no-regression bound of the larger networks). */
export const SMALL_MODEL_TOLERANCE_PCT: Readonly<Record<SmallModelSet, number>> = Object.freeze({
  calibration: 15,
  'held-out': 25,
  large: 25,
});

/** Zoo models the figures are for (names of `@swapless/zoo`). */
export type SmallModelName =
  | 'mobilenet_v1'
  | 'mobilenet_v2'
  | 'squeezenet'
  | 'inception_v1'
  | 'inception_v3'
  | 'resnet152_v2'
  | 'vgg16'
  | 'efficientnet_edgetpu_m'
  | 'efficientnet_edgetpu_l';

/** How to build the model a figure is for. */
export interface SmallModelSpec {
  readonly name: SmallModelName;
  /** Square input size, pixels (default: the zoo's). */
  readonly inputSize?: number;
  /** Width (depth) multiplier (MobileNet v1 only; default 1). */
  readonly depthMultiplier?: number;
}

/** One published latency figure. */
export interface SmallModelTarget {
  /** Stable identifier, e.g. `inception_v1/usb3`. */
  readonly id: string;
  readonly label: string;
  readonly set: SmallModelSet;
  readonly model: SmallModelSpec;
  readonly profile: BuiltinProfileName;
  readonly publishedMs: number;
  /**
   * Whether the set's tolerance is asserted. False only for the sub-millisecond MobileNet v1 0.25 figure: it
   * sits below the 2–4 ms band this table is about and is bound by the per-call floor (the measured 0.3 ms), which
   * this revision does not move; it is reported, not accepted (docs: "Small, fast models", limits).
   */
  readonly acceptance: boolean;
  /** Public source: URL and where on it. */
  readonly source: string;
}

const BENCHMARKS = 'https://coral.ai/docs/edgetpu/benchmarks/ (Table 1)';
const MODELS =
  'https://coral.ai/models/all/ (image classification, "Latency": USB Accelerator on a desktop CPU)';
const REFERENCE =
  'https://github.com/google-coral/edgetpu/tree/master/benchmarks/reference (basic_engine_reference_x86_64.csv: ' +
  'Xeon E5-1650 v3 + USB 3.0; _aarch64.csv: Dev Board; Python API)';

function target(
  set: SmallModelSet,
  label: string,
  model: SmallModelSpec,
  profile: BuiltinProfileName,
  publishedMs: number,
  source: string,
  tag = '',
): SmallModelTarget {
  const variant = [model.depthMultiplier, model.inputSize].filter((v) => v !== undefined).join('_');
  const id = `${model.name}${variant ? `_${variant}` : ''}${tag}/${profile}`;
  return { id, label, set, model, profile, publishedMs, acceptance: publishedMs >= 1, source };
}

const inceptionV1 = { name: 'inception_v1' } as const;
const squeezenet = { name: 'squeezenet' } as const;

/** Every published figure of the small-model table, in report order. */
export const SMALL_MODEL_TARGETS: readonly SmallModelTarget[] = Object.freeze([
  // Calibration: Coral's benchmark table, the two networks of 2–4 ms besides the MobileNets (in the fidelity table).
  target('calibration', 'Inception v1 224', inceptionV1, 'usb3', 3.4, BENCHMARKS),
  target('calibration', 'Inception v1 224', inceptionV1, 'devboard', 4.1, BENCHMARKS),
  target('calibration', 'SqueezeNet 224', squeezenet, 'usb3', 2.1, BENCHMARKS),
  target('calibration', 'SqueezeNet 224', squeezenet, 'devboard', 2.0, BENCHMARKS),
  // Held out: other publications of small networks, never used to set a constant.
  target(
    'held-out',
    'MobileNet v1 0.25 128',
    { name: 'mobilenet_v1', depthMultiplier: 0.25, inputSize: 128 },
    'usb3',
    0.9,
    MODELS,
  ),
  target('held-out', 'Inception v1 224 (Python)', inceptionV1, 'usb3', 3.06, REFERENCE, '_py'),
  target('held-out', 'Inception v1 224 (Python)', inceptionV1, 'devboard', 4.0, REFERENCE, '_py'),
  target('held-out', 'MobileNet v1 224 (Python)', { name: 'mobilenet_v1' }, 'usb3', 2.17, REFERENCE, '_py'),
  target(
    'held-out',
    'MobileNet v1 224 (Python)',
    { name: 'mobilenet_v1' },
    'devboard',
    2.22,
    REFERENCE,
    '_py',
  ),
  target('held-out', 'MobileNet v2 224 (Python)', { name: 'mobilenet_v2' }, 'usb3', 2.29, REFERENCE, '_py'),
  target(
    'held-out',
    'MobileNet v2 224 (Python)',
    { name: 'mobilenet_v2' },
    'devboard',
    2.56,
    REFERENCE,
    '_py',
  ),
  // Larger networks: must not regress. (Coral's "Inception V3 224" row is left out: its 12.0 MB file is not the
  // 23.9 MB Inception v3 the zoo builds.)
  target('large', 'Inception v3 299', { name: 'inception_v3' }, 'usb3', 42.8, MODELS),
  target('large', 'EfficientNet-EdgeTPU-M 240', { name: 'efficientnet_edgetpu_m' }, 'usb3', 8.7, BENCHMARKS),
  target(
    'large',
    'EfficientNet-EdgeTPU-M 240',
    { name: 'efficientnet_edgetpu_m' },
    'devboard',
    10.6,
    BENCHMARKS,
  ),
  target('large', 'EfficientNet-EdgeTPU-L 300', { name: 'efficientnet_edgetpu_l' }, 'usb3', 21.3, MODELS),
  target('large', 'ResNet-152 v2 299', { name: 'resnet152_v2' }, 'usb3', 128, BENCHMARKS),
  target('large', 'ResNet-152 v2 299', { name: 'resnet152_v2' }, 'devboard', 151, BENCHMARKS),
  target('large', 'VGG16 224', { name: 'vgg16' }, 'usb3', 296, BENCHMARKS),
  target('large', 'VGG16 224', { name: 'vgg16' }, 'devboard', 343, BENCHMARKS),
] satisfies SmallModelTarget[]);

/**
 * Overrides that turn a built-in profile back into the chip constants of device-model version 1 (before the
 * small-layer revision): flat CONV_2D efficiency 0.3, 16 B/cycle of activation traffic, no tiled array, no
 * zero-copy or fused ops. For before/after comparisons: `{ name, extends: 'usb3', ...PROFILE_V1_OVERRIDES }`.
 */
export const PROFILE_V1_OVERRIDES = Object.freeze({
  arrayEfficiency: Object.freeze({ CONV_2D: 0.3 }),
  activationBytesPerCycle: 16,
  tiledArrayTypes: Object.freeze([] as string[]),
  arrayTileOverheadCycles: 0,
  zeroCopyTypes: Object.freeze([] as string[]),
  fusedOutputTypes: Object.freeze([] as string[]),
});

/** The built-in profiles with {@link PROFILE_V1_OVERRIDES}: the `profiles` option that reproduces version 1. */
export function profilesV1(): Record<BuiltinProfileName, ProfileInput> {
  const v1 = (name: BuiltinProfileName) =>
    resolveProfile({ ...(PROFILE_V1_OVERRIDES as object), name, extends: name } as never);
  return { usb3: v1('usb3'), usb2: v1('usb2'), pcie: v1('pcie'), devboard: v1('devboard') };
}

/** Builds a zoo model: `buildZooModel` of `@swapless/zoo` fits as is. */
export type SpecModelBuilder = (
  name: SmallModelName,
  options: { seed: number; inputSize?: number; depthMultiplier?: number },
) => TfliteModel;

/** Options of {@link smallModelReport}. */
export interface SmallModelOptions {
  /** The zoo's `buildZooModel` (injected, as for the fidelity report). */
  readonly buildModel: SpecModelBuilder;
  /** Zoo seed. Default 0. */
  readonly seed?: number;
  /** Profiles to use instead of the built-in ones of the same name (what-if; validated). */
  readonly profiles?: Partial<Record<BuiltinProfileName, ProfileInput>>;
}

/** One figure against the emulator. */
export interface SmallModelRow {
  readonly id: string;
  readonly label: string;
  readonly set: SmallModelSet;
  readonly profile: BuiltinProfileName;
  readonly publishedMs: number;
  readonly emulatedMs: number;
  /** emulated / published. */
  readonly ratio: number;
  readonly errorPct: number;
  readonly tolerancePct: number;
  /** Whether the tolerance is asserted (see {@link SmallModelTarget.acceptance}). */
  readonly acceptance: boolean;
  readonly withinTolerance: boolean;
  /** The warm call's parts (overhead, input, output, compute, streamed), ms. */
  readonly breakdown: CallBreakdown;
  readonly source: string;
}

/** {@link smallModelReport}'s result (JSON-friendly). */
export interface SmallModelReport {
  readonly reportVersion: 1;
  readonly source: 'emulated';
  readonly seed: number;
  readonly rows: readonly SmallModelRow[];
  /** Every acceptance row within its set's tolerance. */
  readonly pass: boolean;
  /** Largest |errorPct| per set, acceptance rows. */
  readonly maxAbsErrorPct: Readonly<Record<SmallModelSet, number>>;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/**
 * Published vs emulated (a warm call of the whole model, as the benchmarks measure it) for every figure of
 * {@link SMALL_MODEL_TARGETS}.
 *
 * @throws InvalidArgumentError when `buildModel` is not a function.
 */
export function smallModelReport(options: SmallModelOptions): SmallModelReport {
  if (typeof options?.buildModel !== 'function') {
    throw new InvalidArgumentError(
      expected(
        'a function (name, { seed, inputSize?, depthMultiplier? }) => TfliteModel',
        'smallModelReport options.buildModel',
        options?.buildModel,
      ),
    );
  }
  const seed = options.seed ?? 0;
  const models = new Map<string, TfliteModel>();
  const model = (spec: SmallModelSpec): TfliteModel => {
    const key = `${spec.name}/${spec.inputSize ?? ''}/${spec.depthMultiplier ?? ''}`;
    let m = models.get(key);
    if (m === undefined) {
      m = options.buildModel(spec.name, {
        seed,
        ...(spec.inputSize !== undefined ? { inputSize: spec.inputSize } : {}),
        ...(spec.depthMultiplier !== undefined ? { depthMultiplier: spec.depthMultiplier } : {}),
      });
      models.set(key, m);
    }
    return m;
  };
  const profileOf = (name: BuiltinProfileName): DeviceProfile =>
    resolveProfile(options.profiles?.[name] ?? name);

  const rows: SmallModelRow[] = SMALL_MODEL_TARGETS.map((t) => {
    const p = profileOf(t.profile);
    const breakdown = callBreakdown(compileReport(model(t.model), p), p);
    const errorPct = ((breakdown.totalMs - t.publishedMs) / t.publishedMs) * 100;
    const tolerancePct = SMALL_MODEL_TOLERANCE_PCT[t.set];
    return {
      id: t.id,
      label: t.label,
      set: t.set,
      profile: t.profile,
      publishedMs: t.publishedMs,
      emulatedMs: round(breakdown.totalMs, 3),
      ratio: round(breakdown.totalMs / t.publishedMs, 3),
      errorPct: round(errorPct, 2),
      tolerancePct,
      acceptance: t.acceptance,
      withinTolerance: Math.abs(errorPct) <= tolerancePct,
      breakdown,
      source: t.source,
    };
  });
  const accepted = rows.filter((r) => r.acceptance);
  const maxAbs = (set: SmallModelSet): number =>
    round(Math.max(0, ...accepted.filter((r) => r.set === set).map((r) => Math.abs(r.errorPct))), 2);
  return {
    reportVersion: 1,
    source: 'emulated',
    seed,
    rows,
    pass: accepted.every((r) => r.withinTolerance),
    maxAbsErrorPct: {
      calibration: maxAbs('calibration'),
      'held-out': maxAbs('held-out'),
      large: maxAbs('large'),
    },
  };
}
