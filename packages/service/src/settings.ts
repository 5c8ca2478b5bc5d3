/**
 * `createService`'s groundwork: the options checked (defaults applied), the device resolved (an emulator profile,
 * or the real Edge TPU with a head compiler when one exists), the latency model loaded and the runtime started —
 * everything the `Service` constructor needs.
 */
import { availableParallelism } from 'node:os';
import { defaultVariantStore, type VariantStore } from '@swapless/compiler';
import { POLICY_NAMES } from '@swapless/controller';
import { expected, InvalidArgumentError, positiveInt } from '@swapless/core';
import { createRuntime, type EdgeTpuBackendOptions, type Runtime } from '@swapless/runtime';
import { getProfile } from '@swapless/tpu-emulator';
import { edgeTpuHeadCompiler } from './head-compiler.js';
import { policyOptionsWith, serviceLatencyModel } from './latency-model.js';
import { resolveDevices } from './placement.js';
import { positiveNumber, type ServiceSettings } from './state.js';
import type { ServiceOptions } from './types.js';

/** What `createService` hands to the `Service` constructor. */
export interface PreparedService {
  runtime: Runtime;
  /** The caller's options, with the policy options the latency model completes. */
  options: ServiceOptions;
  settings: ServiceSettings;
  /** Conditions the operator should know about (`Service.warnings`). */
  warnings: string[];
}

/** The device option resolved: the profile name the catalogues model, and the real Edge TPU's settings. */
interface ResolvedDevice {
  profileName: string;
  edgetpu: { edgetpu: EdgeTpuBackendOptions } | null;
}

/**
 * The `device` option: a profile name, or the real Edge TPU — whose heads are compiled with edgetpu_compiler
 * when one is found (a warning in `warnings` otherwise).
 */
async function resolveDevice(
  device: ServiceOptions['device'] | null,
  variants: VariantStore,
  warnings: string[],
): Promise<ResolvedDevice> {
  if (typeof device === 'string') return { profileName: device, edgetpu: null };
  if (typeof device !== 'object' || device === null || typeof device.edgetpu !== 'object') {
    throw new InvalidArgumentError(
      expected('a device profile name or { edgetpu: {...} }', 'the service device', device),
    );
  }
  let edgetpu = { edgetpu: device.edgetpu };
  if (device.edgetpu.compileHead === undefined) {
    // The real Edge TPU runs only what edgetpu_compiler made: compile each head (cached) when a compiler exists.
    const found = await edgeTpuHeadCompiler(variants, device.compilerPath);
    if (found.compiler !== null) edgetpu = { edgetpu: { ...device.edgetpu, compileHead: found.compiler } };
    else warnings.push(found.warning);
  }
  return { profileName: device.profile ?? 'usb3', edgetpu };
}

/** Checks the options that are only read later (profiling, vetting, callbacks), so that they fail here. */
function checkLaterOptions(options: ServiceOptions): void {
  const profiling = options.profiling ?? {};
  if (profiling.repetitions !== undefined) positiveInt(profiling.repetitions, 'profiling.repetitions');
  if (profiling.maxCuts !== undefined) positiveInt(profiling.maxCuts, 'profiling.maxCuts', 2);
  checkVetting(options.vetting);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new InvalidArgumentError(expected('a function', 'the service onProgress', options.onProgress));
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new InvalidArgumentError(
      expected('a function returning epoch ms', 'the service clock', options.clock),
    );
  }
}

/**
 * Validates `options`, loads the latency model and starts the runtime.
 * @throws InvalidArgumentError for bad options (unknown device profile or policy, bad numbers).
 */
export async function prepareService(options: ServiceOptions): Promise<PreparedService> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(expected('an options object', 'createService', options));
  }
  const warnings: string[] = [];
  const variants = options.variants ?? defaultVariantStore();
  if (typeof variants?.variant !== 'function' || typeof variants.compiledHead !== 'function') {
    throw new InvalidArgumentError(expected('a VariantStore', 'the service variants', variants));
  }
  const { profileName, edgetpu } = await resolveDevice(options.device ?? 'usb3', variants, warnings);
  const devices = resolveDevices(options.devices, profileName, edgetpu !== null);
  // The catalogues model the first device (the default of every tenant).
  const profile = getProfile((devices.profiles[0] ?? profileName) as 'usb3');
  const cores = positiveInt(options.cores ?? Math.max(1, availableParallelism() - 1), 'the service cores');
  const tickMs = positiveInt(options.tickMs ?? 1000, 'the controller tickMs', 10);
  const policy = options.policy ?? 'swapless';
  if (typeof policy !== 'function' && !(POLICY_NAMES as readonly string[]).includes(policy)) {
    throw new InvalidArgumentError(
      expected(`one of ${POLICY_NAMES.join(', ')}`, 'the service policy', policy),
    );
  }
  const historyLimit = positiveInt(options.historyLimit ?? 500, 'the service historyLimit');
  const seriesLimit = positiveInt(options.seriesLimit ?? 600, 'the service seriesLimit');
  checkLaterOptions(options);
  const latencyModel = await serviceLatencyModel(options);
  const runtime = await createRuntime({
    device: edgetpu ?? profile,
    ...(devices.runtime !== undefined ? { devices: devices.runtime } : {}),
    cores,
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
    ...(options.queueLimit !== undefined ? { queueLimit: options.queueLimit } : {}),
    ...(options.emulator !== undefined ? { emulator: options.emulator } : {}),
    variants,
  });
  const settings: ServiceSettings = {
    latencyModel,
    deviceProfiles: devices.profiles,
    cores,
    edgetpu: edgetpu?.edgetpu ?? null,
    tickMs,
    profile,
    policy,
    historyLimit,
    seriesLimit,
    variants,
  };
  return {
    runtime,
    options: { ...options, policyOptions: policyOptionsWith(options, latencyModel) },
    settings,
    warnings,
  };
}

const VETTING_KEYS: ReadonlySet<string> = new Set(['timeoutMs', 'memoryLimitBytes', 'cache', 'vetter']);

/**
 * The `vetting` option, checked here rather than at the first registration (where a bad limit would surface as
 * that tenant's failure).
 */
function checkVetting(vetting: unknown): void {
  if (vetting === undefined || typeof vetting === 'boolean') return;
  if (typeof vetting !== 'object' || vetting === null || Array.isArray(vetting)) {
    throw new InvalidArgumentError(
      expected(
        'a boolean or { timeoutMs?, memoryLimitBytes?, cache?, vetter? }',
        'the service vetting',
        vetting,
      ),
    );
  }
  const v = vetting as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!VETTING_KEYS.has(key)) {
      throw new InvalidArgumentError(
        expected([...VETTING_KEYS].join(', '), 'the names of the service vetting options', key),
      );
    }
  }
  if (v.timeoutMs !== undefined) positiveNumber(v.timeoutMs, 'vetting.timeoutMs');
  if (v.memoryLimitBytes !== undefined) positiveNumber(v.memoryLimitBytes, 'vetting.memoryLimitBytes');
  if (v.cache !== undefined && typeof v.cache !== 'boolean') {
    throw new InvalidArgumentError(expected('a boolean', 'vetting.cache', v.cache));
  }
  const vetter = v.vetter as { vet?: unknown } | undefined;
  if (
    vetter !== undefined &&
    (typeof vetter !== 'object' || vetter === null || typeof vetter.vet !== 'function')
  ) {
    throw new InvalidArgumentError(expected('a Vetter (from @swapless/edgetpu)', 'vetting.vetter', vetter));
  }
}
