/**
 * The one place that finds and loads the native pieces: the addon (.node), the TFLite C library it dlopens,
 * and the name of the Edge TPU library. When loading fails it throws ONE {@link NativeLoadError} that lists
 * every path tried with its reason, and the fix.
 */
import { createRequire } from 'node:module';
import { NativeLoadError } from '@swapless/core';
import {
  addonPath as bundledAddonPath,
  defaultEdgeTpuLibrary,
  defaultTfLiteLibraryPath,
  type RawBinding,
  type RawTfLiteLibrary,
} from '@swapless/tflite-addon';

/** Environment variable naming the TFLite C library to use instead of the bundled one. */
export const TFLITE_LIB_ENV = 'SWAPLESS_TFLITE_LIB';
/** Environment variable naming the Edge TPU library (default `libedgetpu.so.1` through the system loader). */
export const EDGETPU_LIB_ENV = 'SWAPLESS_EDGETPU_LIB';

/** A system-wide TFLite C library, tried after the bundled one (e.g. one built from source into /usr/local/lib). */
const SYSTEM_TFLITE_LIBRARY =
  process.platform === 'darwin' ? 'libtensorflowlite_c.dylib' : 'libtensorflowlite_c.so';

/** Explicit locations, for tests and embedders; anything left out is found the default way. */
export interface LoaderOptions {
  /** Path of the compiled addon (default: the one built inside @swapless/tflite-addon). */
  addon?: string;
  /**
   * TFLite C library path, or candidates tried in order. Default: `$SWAPLESS_TFLITE_LIB` alone when set
   * (an explicit choice is never silently replaced), otherwise the library bundled in tfjs-tflite-node for
   * this platform, then `libtensorflowlite_c.so` through the system loader.
   */
  tfliteLibrary?: string | readonly string[];
}

/** The loaded native pieces. */
export interface NativeRuntime {
  /** The raw binding (see @swapless/tflite-addon for its types). */
  readonly binding: RawBinding;
  /** The dlopen'ed TFLite C library. */
  readonly library: RawTfLiteLibrary;
  /** Path the addon was loaded from. */
  readonly addonPath: string;
  /** Path (or loader name) the TFLite C library was loaded from. */
  readonly tfliteLibraryPath: string;
  /** `TfLiteVersion()` of that library. */
  readonly tfliteVersion: string;
}

function tfliteCandidates(option: LoaderOptions['tfliteLibrary']): {
  candidates: string[];
  causes: string[];
} {
  if (option !== undefined)
    return { candidates: typeof option === 'string' ? [option] : [...option], causes: [] };
  const fromEnv = process.env[TFLITE_LIB_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { candidates: [fromEnv], causes: [] };
  const causes: string[] = [];
  const candidates: string[] = [];
  const bundled = defaultTfLiteLibraryPath();
  if (bundled === null) {
    causes.push(
      `bundled TFLite C library: tfjs-tflite-node has none for ${process.platform}-${process.arch} or is not installed`,
    );
  } else {
    candidates.push(bundled);
  }
  candidates.push(SYSTEM_TFLITE_LIBRARY);
  return { candidates, causes };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

function fail(summary: string, causes: string[], fix: string): never {
  const list = causes.map((c) => `  - ${c}`).join('\n');
  throw new NativeLoadError(`${summary}. Tried:\n${list}\nFix: ${fix}`, causes, { details: { fix } });
}

/**
 * Loads the addon and a TFLite C library, uncached. Throws one {@link NativeLoadError} listing every
 * attempt when nothing loads.
 */
export function loadNative(options: LoaderOptions = {}): NativeRuntime {
  const addonPath = options.addon ?? bundledAddonPath;
  let binding: RawBinding;
  try {
    binding = createRequire(import.meta.url)(addonPath) as RawBinding;
  } catch (error) {
    fail(
      'Cannot load the SwapLess TFLite addon',
      [`addon ${addonPath}: ${reason(error)}`],
      'build it with `npm run build -w @swapless/tflite-addon` (needs g++, make and python3), ' +
        'or reinstall so its install script runs',
    );
  }
  const { candidates, causes } = tfliteCandidates(options.tfliteLibrary);
  for (const path of candidates) {
    try {
      const library = new binding.TfLiteLibrary(path);
      return { binding, library, addonPath, tfliteLibraryPath: path, tfliteVersion: library.version() };
    } catch (error) {
      causes.push(`TFLite C library ${path}: ${reason(error)}`);
    }
  }
  return fail(
    'Cannot load a TensorFlow Lite C library',
    causes,
    `run \`npm install\` so tfjs-tflite-node provides its bundled library (linux-x64, linux-arm64, darwin-arm64), ` +
      `or set ${TFLITE_LIB_ENV} to the path of a TensorFlow Lite 2.x C library (libtensorflowlite_c)`,
  );
}

let cached: NativeRuntime | undefined;

/** The default runtime, loaded on first use and cached for the process (failures are not cached). */
export function defaultNative(): NativeRuntime {
  cached ??= loadNative();
  return cached;
}

/** The Edge TPU library to dlopen: the explicit one, else `$SWAPLESS_EDGETPU_LIB`, else `libedgetpu.so.1`. */
export function resolveEdgeTpuLibrary(explicit?: string): string {
  if (explicit !== undefined) return explicit;
  const fromEnv = process.env[EDGETPU_LIB_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : defaultEdgeTpuLibrary;
}
