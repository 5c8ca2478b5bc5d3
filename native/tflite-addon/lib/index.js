// Paths and types only: this module never loads the addon or the TFLite library. Finding and loading them
// (with one aggregated error listing every cause) is the job of @swapless/edgetpu's loader, so that policy
// lives in one place.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Absolute path of the compiled addon (built by `npm run build -w @swapless/tflite-addon`). */
export const addonPath = join(here, '..', 'build', 'Release', 'swapless_tflite.node');

/** The prebuilt TFLite 2.9 C libraries inside tfjs-tflite-node, by `${process.platform}-${process.arch}`. */
export const tfliteLibraryLayouts = Object.freeze({
  'linux-x64': 'linux_amd64/libtensorflowlite_c.so',
  'linux-arm64': 'linux_arm64/libtensorflowlite_c.so',
  'darwin-arm64': 'darwin_arm64/libtensorflowlite_c.dylib',
  'win32-x64': 'windows_amd64/tensorflowlite_c.dll',
});

/**
 * Path of the TFLite C library bundled for a platform, or null when tfjs-tflite-node has none for it
 * or is not installed. The file is not checked for existence: the loader reports that.
 * @param {string} [platform]
 * @param {string} [arch]
 * @returns {string | null}
 */
export function defaultTfLiteLibraryPath(platform = process.platform, arch = process.arch) {
  const layout = tfliteLibraryLayouts[`${platform}-${arch}`];
  if (layout === undefined) return null;
  let pkgJson;
  try {
    pkgJson = createRequire(import.meta.url).resolve('tfjs-tflite-node/package.json');
  } catch {
    return null;
  }
  return join(dirname(pkgJson), 'cc_deps', layout);
}

/** The system loader name of the Edge TPU runtime (Coral's libedgetpu1-std / libedgetpu1-max packages). */
export const defaultEdgeTpuLibrary = process.platform === 'darwin' ? 'libedgetpu.1.dylib' : 'libedgetpu.so.1';
