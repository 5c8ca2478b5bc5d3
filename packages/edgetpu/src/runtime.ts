/**
 * The facade: create interpreters with a delegate policy, list Edge TPUs, describe the runtime. Every
 * option is validated here with house-style messages before anything native is touched.
 */
import {
  DelegateUnavailableError,
  expected,
  InvalidArgumentError,
  InvalidModelError,
  modelBytesSync,
  UnsupportedModelError,
} from '@swapless/core';
import { readModel, runnability, type TfliteModel } from '@swapless/tflite';
import type { RawInterpreter, RawInterpreterOptions } from '@swapless/tflite-addon';
import {
  type CpuPlan,
  type CpuVariant,
  cpuPlan,
  fallbackNote,
  type Int8Outcome,
  int8Outcome,
  rewriteNote,
} from './cpu-path.js';
import {
  type BackendInfo,
  type DelegateChoice,
  type DelegateName,
  Interpreter,
  type Uint8Policy,
} from './interpreter.js';
import {
  defaultNative,
  EDGETPU_LIB_ENV,
  type LoaderOptions,
  loadNative,
  type NativeRuntime,
  resolveEdgeTpuLibrary,
} from './loader.js';
import { fromNative, rawCode, rawReports } from './native-errors.js';

/** Highest thread count accepted (the binding's own limit). */
export const MAX_THREADS = 256;

/** Options of `createInterpreter`. */
export interface InterpreterOptions {
  /**
   * Threads for TFLite's builtin kernels and for XNNPACK, 1..256. Default 1: SwapLess budgets cores per
   * tenant explicitly, so an interpreter never takes more than it is given.
   */
  threads?: number;
  /**
   * `'cpu'` (default): never touch the Edge TPU library. `'edgetpu'`: the Edge TPU delegate is required;
   * `DelegateUnavailableError` (listing why) when it cannot be created. `'auto'`: try the Edge TPU delegate
   * and fall back to the CPU, recording why in `backend.fallbackReason`. The default is `'cpu'` because an
   * Edge TPU delegate opens (and holds) the device even for a model with no Edge TPU ops.
   */
  delegate?: DelegateChoice;
  /**
   * Apply the XNNPACK delegate. Default true: it is 8–12× faster. When XNNPACK cannot prepare the model, the
   * interpreter runs on TFLite's reference kernels instead (`backend.kernels`, `backend.note` says why).
   */
  xnnpack?: boolean;
  /**
   * What to do with uint8-quantized compute when XNNPACK is on (docs/native.md). `'int8'` (default): rewrite it
   * to int8 (`rewriteToInt8` of @swapless/tflite) so XNNPACK's signed path runs it; inputs and outputs stay
   * uint8, results match the uint8 model to within a few output LSBs. `'as-is'`: give TFLite the bytes
   * unchanged (XNNPACK in this TFLite build refuses uint8 compute, so such a model runs on reference kernels).
   */
  uint8?: Uint8Policy;
  /**
   * Verify the model before TFLite sees it (default true): `readModel`'s full verification, and a refusal
   * (`UnsupportedModelError`, "cannot run here: custom op X") of custom ops TFLite cannot resolve and of Edge TPU
   * compiled models without the Edge TPU delegate. `false` is for trusted files only: a malformed model can
   * crash the process inside TFLite.
   */
  verify?: boolean;
  /** Edge TPU delegate settings (used by `'auto'` and `'edgetpu'`). */
  edgetpu?: EdgeTpuOptions;
}

/** Edge TPU delegate settings. */
export interface EdgeTpuOptions {
  /** Library to dlopen (default `$SWAPLESS_EDGETPU_LIB`, else `libedgetpu.so.1` through the system loader). */
  library?: string;
  /** Device to open: `usb`, `usb:0`, `pci:0`, `:0`… (libedgetpu's `device` option; default: any). */
  device?: string;
  /** Further string options passed to `tflite_plugin_create_delegate` as they are. */
  options?: Record<string, string>;
}

/** An attached Edge TPU. */
export interface EdgeTpuDevice {
  /** Link the device is attached through. */
  readonly type: 'usb' | 'pci';
  /** System path of the device. */
  readonly path: string;
}

/** Where the runtime's native pieces come from. */
export interface RuntimeInfo {
  /** `TfLiteVersion()` of the loaded library, e.g. `2.9.0`. */
  readonly tfliteVersion: string;
  /** Path the TFLite C library was loaded from. */
  readonly tfliteLibrary: string;
  /** Path the addon was loaded from. */
  readonly addon: string;
  /** The Edge TPU library that `'auto'`/`'edgetpu'` and {@link TfLiteRuntime.listEdgeTpus} would use. */
  readonly edgetpuLibrary: string;
}

const DELEGATES: readonly DelegateChoice[] = ['auto', 'edgetpu', 'cpu'];
const OPTION_KEYS = new Set(['threads', 'delegate', 'xnnpack', 'uint8', 'verify', 'edgetpu']);
const UINT8_POLICIES: readonly Uint8Policy[] = ['int8', 'as-is'];
const EDGETPU_KEYS = new Set(['library', 'device', 'options']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

interface Normalised {
  threads: number;
  delegate: DelegateChoice;
  xnnpack: boolean;
  uint8: Uint8Policy;
  verify: boolean;
  edgetpuLibrary: string;
  edgetpuOptions: Record<string, string>;
}

function normalise(options: unknown): Normalised {
  if (options === undefined) options = {};
  if (!isPlainObject(options))
    throw new InvalidArgumentError(expected('an options object', 'options', options));
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new InvalidArgumentError(expected([...OPTION_KEYS].join(', '), 'the option names', key));
    }
  }
  const {
    threads = 1,
    delegate = 'cpu',
    xnnpack = true,
    uint8 = 'int8',
    verify = true,
    edgetpu = {},
  } = options;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new InvalidArgumentError(expected(`an integer in [1, ${MAX_THREADS}]`, 'options.threads', threads));
  }
  if (!DELEGATES.includes(delegate as DelegateChoice)) {
    throw new InvalidArgumentError(expected("'auto', 'edgetpu' or 'cpu'", 'options.delegate', delegate));
  }
  if (typeof xnnpack !== 'boolean')
    throw new InvalidArgumentError(expected('a boolean', 'options.xnnpack', xnnpack));
  if (!UINT8_POLICIES.includes(uint8 as Uint8Policy)) {
    throw new InvalidArgumentError(expected("'int8' or 'as-is'", 'options.uint8', uint8));
  }
  if (typeof verify !== 'boolean')
    throw new InvalidArgumentError(expected('a boolean', 'options.verify', verify));
  if (!isPlainObject(edgetpu))
    throw new InvalidArgumentError(expected('an object', 'options.edgetpu', edgetpu));
  for (const key of Object.keys(edgetpu)) {
    if (!EDGETPU_KEYS.has(key)) {
      throw new InvalidArgumentError(
        expected([...EDGETPU_KEYS].join(', '), 'the options.edgetpu names', key),
      );
    }
  }
  const { library, device, options: extra = {} } = edgetpu;
  if (library !== undefined && (typeof library !== 'string' || library === '')) {
    throw new InvalidArgumentError(expected('a non-empty path string', 'options.edgetpu.library', library));
  }
  if (device !== undefined && (typeof device !== 'string' || device === '')) {
    throw new InvalidArgumentError(
      expected('a device string such as "usb:0"', 'options.edgetpu.device', device),
    );
  }
  if (!isPlainObject(extra)) {
    throw new InvalidArgumentError(expected('an object of strings', 'options.edgetpu.options', extra));
  }
  const edgetpuOptions: Record<string, string> = {};
  for (const [key, value] of Object.entries(extra)) {
    if (typeof value !== 'string') {
      throw new InvalidArgumentError(expected('a string', `options.edgetpu.options.${key}`, value));
    }
    edgetpuOptions[key] = value;
  }
  if (device !== undefined) {
    if (edgetpuOptions.device !== undefined && edgetpuOptions.device !== device) {
      throw new InvalidArgumentError(
        expected(
          `the same device as options.edgetpu.device (${device})`,
          'options.edgetpu.options.device',
          edgetpuOptions.device,
        ),
      );
    }
    edgetpuOptions.device = device;
  }
  return {
    threads,
    delegate: delegate as DelegateChoice,
    xnnpack,
    uint8: uint8 as Uint8Policy,
    verify,
    edgetpuLibrary: resolveEdgeTpuLibrary(library as string | undefined),
    edgetpuOptions,
  };
}

/**
 * The model's bytes, checked to be a TFLite flatbuffer; `accepted` says what the caller takes, for the error.
 * `modelBytesSync`, not core's asynchronous `modelBytes`: `createInterpreter` and `prepareModel` are synchronous
 * (they return the interpreter or the prepared model), so they cannot await a read.
 */
function modelBytes(model: unknown, accepted = 'a Uint8Array or a .tflite file path'): Uint8Array {
  if (!(model instanceof Uint8Array) && typeof model !== 'string') {
    throw new InvalidArgumentError(expected(accepted, 'the model', model));
  }
  const bytes = modelBytesSync(model);
  if (bytes.byteLength < 8 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3') {
    throw new InvalidModelError(expected('TFLite model bytes (file identifier TFL3)', 'the model', bytes), {
      details: typeof model === 'string' ? { path: model } : {},
    });
  }
  return bytes;
}

/** The backend fields known before the interpreter exists. */
type BackendBase = Omit<BackendInfo, 'delegates' | 'edgetpu' | 'xnnpack' | 'kernels' | 'int8' | 'note'>;

/**
 * What the runtime here can run, from a parsed model: a custom op TFLite cannot resolve is refused now. An Edge
 * TPU compiled model passes; the result is then the sentence that refuses it where no Edge TPU delegate may be
 * applied ({@link refuseCompiled}), else null.
 */
function runnable(model: TfliteModel): string | null {
  const r = runnability(model);
  if (r.unresolvedCustomOps.length > 0) {
    throw new UnsupportedModelError(r.reason!, {
      details: { customOps: [...r.unresolvedCustomOps], compiled: r.compiled },
    });
  }
  return r.compiled ? r.reason! : null;
}

/** Full verification before TFLite sees the bytes: `readModel` (structure, indices, buffer sizes, op semantics). */
function verified(bytes: Uint8Array): { model: TfliteModel; compiled: string | null } {
  const model = readModel(bytes);
  return { model, compiled: runnable(model) };
}

/** A compiled model on the CPU alone: refused with the verifier's sentence (only the Edge TPU runs it). */
function refuseCompiled(compiled: string | null, delegate: DelegateChoice): void {
  if (compiled !== null && delegate === 'cpu') {
    throw new UnsupportedModelError(compiled, { details: { customOps: [], compiled: true } });
  }
}

/** The `kind` of a {@link PreparedModel}: how `createInterpreter` tells one from bytes, in any thread. */
const PREPARED_MODEL_KIND = 'swapless.prepared-model';

/**
 * A model made ready for `createInterpreter` once, by {@link prepareModel}: verified (or trusted) and, when it has
 * uint8 compute that XNNPACK refuses, rewritten to int8. Give it to `createInterpreter` in place of the bytes, as
 * many times as needed: nothing is parsed, verified or rewritten again. It is plain data (structured-cloneable),
 * so a worker thread can receive it in a message. Its fields are trusted as they are: make it with
 * {@link prepareModel} only.
 */
export interface PreparedModel extends Int8Outcome {
  /** Always `'swapless.prepared-model'`. */
  readonly kind: 'swapless.prepared-model';
  /** The model as given (a private copy): what TFLite runs when there is no rewrite or XNNPACK is off. */
  readonly bytes: Uint8Array;
  /** True when the model was verified (`prepareModel`'s `verify`, default true). */
  readonly verified: boolean;
  /**
   * For an Edge TPU compiled model: the sentence that refuses it where no Edge TPU delegate may be applied
   * (`delegate: 'cpu'`, or `'auto'` without an Edge TPU). Null otherwise.
   */
  readonly compiled: string | null;
}

/** Options of {@link prepareModel}. */
export interface PrepareOptions {
  /**
   * Verify the model (default true), exactly as `createInterpreter` would: full `readModel` verification (and of
   * the int8 rewrite too). `false` is for bytes that are trusted, such as the parts SwapLess wrote itself from a
   * model it verified: they are only parsed, for the rewrite. Either way the model is parsed, so a custom op TFLite
   * cannot resolve is refused (`UnsupportedModelError`, "cannot run here: custom op X") and a compiled model is
   * recognised.
   */
  verify?: boolean;
}

function isPrepared(model: unknown): model is PreparedModel {
  return isPlainObject(model) && model.kind === PREPARED_MODEL_KIND;
}

/** Checks the shape of a prepared model (it may come through a message) so that a broken one is a typed error. */
function checkPrepared(p: PreparedModel): PreparedModel {
  const int8 = p.int8 as unknown;
  const ok =
    p.bytes instanceof Uint8Array &&
    typeof p.verified === 'boolean' &&
    typeof p.uint8Compute === 'boolean' &&
    (p.compiled === null || typeof p.compiled === 'string') &&
    (p.rewriteError === null || typeof p.rewriteError === 'string') &&
    (int8 === null ||
      (isPlainObject(int8) && int8.bytes instanceof Uint8Array && isPlainObject(int8.summary)));
  if (!ok) throw new InvalidArgumentError(expected('a model made by prepareModel', 'the model', p));
  return p;
}

/**
 * Prepares a model (bytes, or a .tflite file path) for any number of `createInterpreter` calls, in this thread or
 * another: parses and (by default) verifies it once, and computes once the int8 rewrite of uint8 compute that the
 * interpreters' default `uint8: 'int8'` policy runs on XNNPACK. The bytes are copied. Throws what
 * `createInterpreter` throws for a bad model (`InvalidModelError`, `UnsupportedModelError`, `SwapLessIoError`).
 */
export function prepareModel(model: Uint8Array | string, options: PrepareOptions = {}): PreparedModel {
  if (!isPlainObject(options))
    throw new InvalidArgumentError(expected('an options object', 'options', options));
  for (const key of Object.keys(options)) {
    if (key !== 'verify') throw new InvalidArgumentError(expected('verify', 'the option names', key));
  }
  const { verify = true } = options;
  if (typeof verify !== 'boolean')
    throw new InvalidArgumentError(expected('a boolean', 'options.verify', verify));
  const given = modelBytes(model);
  // A private copy: the prepared model must stay what was verified and rewritten, whatever the caller does next.
  const bytes = typeof model === 'string' ? given : given.slice();
  const parsed = readModel(bytes, { verifySemantics: verify });
  const compiled = runnable(parsed);
  return Object.freeze({
    kind: PREPARED_MODEL_KIND,
    bytes,
    verified: verify,
    compiled,
    ...int8Outcome(parsed, verify),
  });
}

/** A loaded TFLite runtime. Most code uses the default one through the top-level functions. */
export class TfLiteRuntime {
  readonly #native: NativeRuntime;

  /** @internal Use {@link loadRuntime} or the top-level functions. */
  constructor(native: NativeRuntime) {
    this.#native = native;
  }

  /**
   * Creates an interpreter for a model (bytes, a .tflite file path, or a {@link PreparedModel}) with the given
   * delegate policy. The bytes are copied: the caller may reuse its array. By default the model is verified first,
   * and uint8 compute is rewritten to int8 for XNNPACK (see {@link InterpreterOptions}); a prepared model was
   * verified (or not) and rewritten when it was prepared, so `verify` does not apply to it.
   */
  createInterpreter(model: Uint8Array | string | PreparedModel, options?: InterpreterOptions): Interpreter {
    const o = normalise(options);
    let plan: CpuPlan;
    let compiled: string | null = null;
    let checked = o.verify;
    if (isPrepared(model)) {
      const p = checkPrepared(model);
      if (options?.verify !== undefined) {
        throw new InvalidArgumentError(
          expected(
            'no verify option with a prepared model (prepareModel verified it, or not)',
            'options.verify',
            options.verify,
          ),
        );
      }
      checked = p.verified;
      compiled = p.compiled;
      plan = cpuPlan(p.bytes, { outcome: p }, { xnnpack: o.xnnpack, uint8: o.uint8 });
    } else {
      const bytes = modelBytes(model, 'a Uint8Array, a file path or a prepared model');
      let parsed: TfliteModel | undefined;
      if (o.verify) ({ model: parsed, compiled } = verified(bytes));
      plan = cpuPlan(bytes, parsed === undefined ? undefined : { parsed }, {
        xnnpack: o.xnnpack,
        uint8: o.uint8,
      });
    }
    refuseCompiled(compiled, o.delegate);
    const base: RawInterpreterOptions = { threads: o.threads, xnnpack: o.xnnpack, edgetpu: null };
    const common = { threads: o.threads, uint8: o.uint8, verified: checked };
    if (o.delegate === 'cpu') return this.#create(plan, base, { requested: 'cpu', ...common });

    const withTpu = { ...base, edgetpu: { library: o.edgetpuLibrary, options: o.edgetpuOptions } };
    const backend = { requested: o.delegate, ...common, edgetpuLibrary: o.edgetpuLibrary };
    try {
      return this.#build(plan, withTpu, backend);
    } catch (error) {
      const unavailable = rawCode(error) === 'TFLITE_ADDON_DELEGATE';
      const reasons = unavailable ? rawReports(error) : [(error as Error).message];
      if (o.delegate === 'edgetpu') {
        if (!unavailable) throw fromNative(error);
        throw new DelegateUnavailableError(
          `The Edge TPU delegate is required (delegate: 'edgetpu') but unavailable: ${reasons.join('; ')}. ` +
            `Fix: install libedgetpu (Coral's libedgetpu1-std), attach the device, set ${EDGETPU_LIB_ENV} ` +
            `or options.edgetpu.library, or use delegate: 'auto'`,
          { cause: error, details: { library: o.edgetpuLibrary, options: o.edgetpuOptions, reasons } },
        );
      }
      const fallbackReason = reasons.join('; ');
      if (compiled !== null) {
        // Only the Edge TPU runs an edgetpu-custom-op: the CPU fallback of 'auto' cannot run this model.
        throw new UnsupportedModelError(`${compiled} (no Edge TPU: ${fallbackReason})`, {
          cause: error,
          details: { fallbackReason },
        });
      }
      return this.#create(plan, base, { ...backend, fallbackReason });
    }
  }

  #create(plan: CpuPlan, options: RawInterpreterOptions, backend: BackendBase): Interpreter {
    try {
      return this.#build(plan, options, backend);
    } catch (error) {
      throw fromNative(error);
    }
  }

  /**
   * Creates the raw interpreter on the planned bytes; when XNNPACK cannot prepare them, creates it again on the
   * original bytes with TFLite's reference kernels (the note says why). Throws the binding's raw error when the
   * model fails without XNNPACK too (it is then the model, not the delegate).
   */
  #build(plan: CpuPlan, options: RawInterpreterOptions, backend: BackendBase): Interpreter {
    const attempt = (variant: CpuVariant, raw: RawInterpreterOptions): Interpreter =>
      this.#wrap(
        new this.#native.binding.Interpreter(this.#native.library, variant.bytes, raw),
        backend,
        variant,
      );
    let variant: CpuVariant = plan.first();
    try {
      return attempt(variant, options);
    } catch (error) {
      if (!options.xnnpack || rawCode(error) !== 'TFLITE_ADDON_RUNTIME') throw error;
      let failure = error;
      // A model nobody parsed yet (verify: false) gets its int8 rewrite only now, when XNNPACK refused it.
      const retry = plan.afterFailure();
      if (retry !== undefined) {
        variant = retry;
        try {
          return attempt(variant, options);
        } catch (again) {
          if (rawCode(again) !== 'TFLITE_ADDON_RUNTIME') throw again;
          failure = again;
        }
      }
      const note = fallbackNote(rawReports(failure), variant, plan);
      return attempt({ bytes: plan.original, note }, { ...options, xnnpack: false });
    }
  }

  #wrap(raw: RawInterpreter, backend: BackendBase, variant: CpuVariant): Interpreter {
    const delegates = raw.delegates as DelegateName[];
    const xnnpack = delegates.includes('xnnpack');
    const rewritten = xnnpack ? variant.int8 : undefined;
    const note = variant.note ?? (rewritten === undefined ? undefined : rewriteNote(rewritten));
    return new Interpreter(raw, {
      ...backend,
      delegates: Object.freeze([...delegates]),
      edgetpu: delegates.includes('edgetpu'),
      xnnpack,
      kernels: xnnpack ? 'xnnpack' : 'reference',
      ...(rewritten === undefined ? {} : { int8: Object.freeze(rewritten) }),
      ...(note === undefined ? {} : { note }),
    });
  }

  /**
   * Edge TPUs the Edge TPU library can see (`edgetpu_list_devices`); empty when the library is absent or
   * does not export the listing functions.
   */
  listEdgeTpus(options: { library?: string } = {}): EdgeTpuDevice[] {
    if (!isPlainObject(options))
      throw new InvalidArgumentError(expected('an options object', 'options', options));
    const { library } = options;
    if (library !== undefined && (typeof library !== 'string' || library === '')) {
      throw new InvalidArgumentError(expected('a non-empty path string', 'options.library', library));
    }
    const listing = this.#native.binding.listEdgeTpus(resolveEdgeTpuLibrary(library));
    return listing.devices.map((d) => Object.freeze({ type: d.type === 0 ? 'pci' : 'usb', path: d.path }));
  }

  /** The TFLite version and where the native pieces were loaded from. */
  info(): RuntimeInfo {
    const n = this.#native;
    return Object.freeze({
      tfliteVersion: n.tfliteVersion,
      tfliteLibrary: n.tfliteLibraryPath,
      addon: n.addonPath,
      edgetpuLibrary: resolveEdgeTpuLibrary(),
    });
  }
}

/** Loads a runtime from explicit locations (uncached); throws one `NativeLoadError` listing every cause. */
export function loadRuntime(options?: LoaderOptions): TfLiteRuntime {
  return new TfLiteRuntime(loadNative(options));
}

let defaultRuntime: TfLiteRuntime | undefined;

/** The process-wide runtime found the default way (cached after the first successful load). */
export function getRuntime(): TfLiteRuntime {
  defaultRuntime ??= new TfLiteRuntime(defaultNative());
  return defaultRuntime;
}
