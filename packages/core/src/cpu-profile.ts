/**
 * CPU profiles: which CPU the CPU stages are planned and emulated for. `host` (the default) means the CPU
 * SwapLess runs on, measured by the profiler; every other profile is an analytic model of a target CPU — a
 * throughput per op type at one thread, a fixed cost per op and a multi-thread scaling law — that
 * `@swapless/profiler` (`modelledPartMs`) applies to a model's ops. The parameters and their calibration on
 * published figures: docs/cpu-profiles.md.
 */
import { Ajv } from 'ajv';
import { InvalidConfigError } from './errors.js';

/** Throughputs of one thread of the target, by op type. */
export interface CpuOpRates {
  /** 1×1 convolutions (a plain GEMM, no im2col), MACs per ms. */
  readonly conv1x1: number;
  /** Spatial (K×K, K > 1) convolutions and transposed convolutions (im2col + GEMM), MACs per ms. */
  readonly conv: number;
  /** Depthwise convolutions, MACs per ms. */
  readonly depthwise: number;
  /** Fully-connected layers and batch matmuls, MACs per ms. */
  readonly fullyConnected: number;
  /** Every other op (element-wise, pooling, reductions, activations, data movement), output elements per ms. */
  readonly elementwise: number;
}

/** Share of an op type's time that runs in parallel over threads (Amdahl's law); 0 = single-threaded kernel. */
export interface CpuParallelFractions {
  readonly conv1x1: number;
  readonly conv: number;
  readonly depthwise: number;
  readonly fullyConnected: number;
  readonly elementwise: number;
}

/** An analytic model of a target CPU running TFLite's int8 kernels. */
export interface CpuModelProfile {
  /** Profile name, e.g. `devboard-a53`. */
  readonly name: string;
  /** One line for reports: the SoC, its cores and clock. */
  readonly description: string;
  /** Cores of the target: the thread counts planned are 1..cores. */
  readonly cores: number;
  /** Throughputs of one thread. */
  readonly rates: CpuOpRates;
  /** Fixed cost of every op (dispatch, kernel preparation of the invoke), ms; never parallel. */
  readonly fixedMsPerOp: number;
  /** Parallel fraction per op type: speed-up at t threads = 1 / ((1 − p) + p / t). */
  readonly parallel: CpuParallelFractions;
  /** Thread count the published figures the profile was calibrated on were measured at. */
  readonly calibratedThreads: number;
  /** How the parameters were obtained (calibration, derivation or user-supplied). */
  readonly basis: string;
}

/** A CPU profile: the measured host, or a modelled target. */
export type CpuProfile =
  | { readonly name: 'host'; readonly kind: 'host' }
  | (CpuModelProfile & { readonly kind: 'model' });

/** Names of the built-in CPU profiles, `host` first. */
export const CPU_PROFILE_NAMES = ['host', 'devboard-a53', 'rpi4-a72'] as const;

/** One of the built-in CPU profile names. */
export type CpuProfileName = (typeof CPU_PROFILE_NAMES)[number];

/**
 * Parallel fractions shared by the built-in profiles: ~0.82 for the compute kernels (what a published 1/2/4-thread
 * run of quantized MobileNet v1 on an Arm core gives, see docs/cpu-profiles.md), 0 for the element-wise kernels
 * (TFLite runs them on one thread).
 */
const PARALLEL: CpuParallelFractions = Object.freeze({
  conv1x1: 0.82,
  conv: 0.82,
  depthwise: 0.82,
  fullyConnected: 0.82,
  elementwise: 0,
});

/**
 * Coral Dev Board CPU: NXP i.MX 8M, quad Cortex-A53 at 1.5 GHz. Least-squares fit (relative error) of the
 * conv, 1×1-conv and depthwise rates to Coral's "embedded CPU" figures for MobileNet v1/v2, ResNet-50 V1,
 * Inception v4 and EfficientNet-EdgeTpu-S; the element-wise rate and the per-op cost are fixed priors.
 */
const DEVBOARD_A53: CpuModelProfile = Object.freeze({
  name: 'devboard-a53',
  description: 'Coral Dev Board CPU: NXP i.MX 8M, 4 × Cortex-A53 @ 1.5 GHz',
  cores: 4,
  rates: Object.freeze({
    conv1x1: 6.1e6,
    conv: 3.2e6,
    depthwise: 2.65e5,
    fullyConnected: 6.1e6,
    elementwise: 5e5,
  }),
  fixedMsPerOp: 0.05,
  parallel: PARALLEL,
  calibratedThreads: 1,
  basis: "calibrated on Coral's published embedded-CPU latencies (coral.ai/docs/edgetpu/benchmarks)",
});

/**
 * Raspberry Pi 4 CPU: BCM2711, quad Cortex-A72 at 1.5 GHz. Not calibrated on A72 figures: the A53 profile scaled
 * by 1.87 — the ~2× TFLite speed-up published for a Raspberry Pi 4 over a Pi 3 B+ (Cortex-A53 at 1.4 GHz),
 * divided by the clock ratio 1.5/1.4 to compare with the A53 at 1.5 GHz.
 */
const A72_OVER_A53 = 2 / (1.5 / 1.4);
const RPI4_A72: CpuModelProfile = Object.freeze({
  name: 'rpi4-a72',
  description: 'Raspberry Pi 4 CPU: BCM2711, 4 × Cortex-A72 @ 1.5 GHz',
  cores: 4,
  rates: Object.freeze({
    conv1x1: DEVBOARD_A53.rates.conv1x1 * A72_OVER_A53,
    conv: DEVBOARD_A53.rates.conv * A72_OVER_A53,
    depthwise: DEVBOARD_A53.rates.depthwise * A72_OVER_A53,
    fullyConnected: DEVBOARD_A53.rates.fullyConnected * A72_OVER_A53,
    elementwise: DEVBOARD_A53.rates.elementwise * A72_OVER_A53,
  }),
  fixedMsPerOp: DEVBOARD_A53.fixedMsPerOp / A72_OVER_A53,
  parallel: PARALLEL,
  calibratedThreads: 1,
  basis:
    'derived: devboard-a53 × 1.87 (published Pi 4 / Pi 3 B+ TFLite speed-up ÷ clock ratio); not calibrated',
});

const BUILT_IN: Readonly<Record<Exclude<CpuProfileName, 'host'>, CpuModelProfile>> = Object.freeze({
  'devboard-a53': DEVBOARD_A53,
  'rpi4-a72': RPI4_A72,
});

/** The built-in modelled profiles by name (not `host`, which is measured). */
export const CPU_MODEL_PROFILES: Readonly<Record<string, CpuModelProfile>> = BUILT_IN;

const fraction = { type: 'number', minimum: 0, maximum: 1 } as const;
const rate = { type: 'number', exclusiveMinimum: 0, maximum: 1e12 } as const;
const opKeys = ['conv1x1', 'conv', 'depthwise', 'fullyConnected', 'elementwise'] as const;

/**
 * JSON Schema (draft-07) of `cpu.profile`: a built-in name, or a custom profile — explicit parameters, each
 * defaulting to the `base` profile's (`devboard-a53` when absent).
 */
export const CPU_PROFILE_JSON_SCHEMA = {
  oneOf: [
    { type: 'string', enum: [...CPU_PROFILE_NAMES] },
    {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', not: { enum: [...CPU_PROFILE_NAMES] } },
        base: { type: 'string', enum: CPU_PROFILE_NAMES.filter((n) => n !== 'host') },
        description: { type: 'string', maxLength: 200 },
        cores: { type: 'integer', minimum: 1, maximum: 1024 },
        rates: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(opKeys.map((k) => [k, rate])),
        },
        fixedMsPerOp: { type: 'number', minimum: 0, maximum: 1000 },
        parallel: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(opKeys.map((k) => [k, fraction])),
        },
        calibratedThreads: { type: 'integer', minimum: 1, maximum: 1024 },
      },
    },
  ],
} as const;

/** A custom profile as written in a config: a name and the parameters that differ from its base. */
export interface CustomCpuProfileSpec {
  name: string;
  base?: Exclude<CpuProfileName, 'host'>;
  description?: string;
  cores?: number;
  rates?: Partial<CpuOpRates>;
  fixedMsPerOp?: number;
  parallel?: Partial<CpuParallelFractions>;
  calibratedThreads?: number;
}

/** What `cpu.profile` may hold: a built-in name or a custom profile. */
export type CpuProfileSpec = CpuProfileName | CustomCpuProfileSpec;

const validateSpec = new Ajv({ allErrors: true, strict: false }).compile(CPU_PROFILE_JSON_SCHEMA);

/** The sentence listing what `cpu.profile` accepts (for error messages). */
export function validCpuProfilesSentence(): string {
  return `one of ${CPU_PROFILE_NAMES.map((n) => JSON.stringify(n)).join(', ')}, or a custom profile object with a "name"`;
}

/**
 * Resolves `cpu.profile` (default `host`) to a frozen {@link CpuProfile}. `InvalidConfigError`
 * (`SWAPLESS_INVALID_CONFIG`) naming `where` and listing the valid profiles for anything else.
 */
export function resolveCpuProfile(spec: unknown = 'host', where = 'cpu.profile'): CpuProfile {
  if (!validateSpec(spec)) {
    const detail =
      typeof spec === 'string'
        ? [`${where}: unknown CPU profile ${JSON.stringify(spec)}`]
        : (validateSpec.errors ?? [])
            .filter((e) => e.keyword !== 'oneOf' && !(e.keyword === 'type' && e.instancePath === ''))
            .map((e) => `${where}${e.instancePath}: ${e.message ?? 'is invalid'}`);
    const problems = detail.length > 0 ? detail : [`${where}: is invalid`];
    throw new InvalidConfigError(
      `Expected ${validCpuProfilesSentence()} for ${where} but received ${JSON.stringify(spec)}`,
      problems,
      { details: { allowed: [...CPU_PROFILE_NAMES] } },
    );
  }
  if (spec === 'host') return Object.freeze({ name: 'host', kind: 'host' });
  if (typeof spec === 'string')
    return Object.freeze({ ...BUILT_IN[spec as Exclude<CpuProfileName, 'host'>], kind: 'model' });
  const custom = spec as CustomCpuProfileSpec;
  const base = BUILT_IN[custom.base ?? 'devboard-a53'];
  return Object.freeze({
    kind: 'model',
    name: custom.name,
    description: custom.description ?? `custom profile based on ${base.name}`,
    cores: custom.cores ?? base.cores,
    rates: Object.freeze({ ...base.rates, ...custom.rates }),
    fixedMsPerOp: custom.fixedMsPerOp ?? base.fixedMsPerOp,
    parallel: Object.freeze({ ...base.parallel, ...custom.parallel }),
    calibratedThreads: custom.calibratedThreads ?? base.calibratedThreads,
    basis: `user-supplied parameters over ${base.name}`,
  });
}
