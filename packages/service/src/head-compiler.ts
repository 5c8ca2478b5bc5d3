/**
 * What turns a head segment (ops [0,k) as split) into bytes the real Edge TPU runs: the `*_edgetpu.tflite` that
 * `edgetpu_compiler` makes of it. The variant store of @swapless/compiler compiles it once per (model, k) from its
 * own split and caches it; this only finds the compiler. Without one the delegate gets the head as split
 * (libedgetpu then runs it on the CPU) and the service says so in a warning.
 */
import { findEdgeTpuCompiler, type ServedVariant, type VariantStore } from '@swapless/compiler';

/** `compileHead` of the runtime's Edge TPU backend. */
export type HeadCompiler = (
  head: Uint8Array,
  info: { tenant: string; k: number; variant: ServedVariant },
) => Promise<Uint8Array>;

/**
 * Finds `edgetpu_compiler` (`compilerPath`, else `$SWAPLESS_EDGETPU_COMPILER`, else PATH) and returns a head
 * compiler that asks `store` for the compiled head of the variant being loaded, or `{ compiler: null, warning }`
 * when there is none.
 * @throws InvalidArgumentError when an explicitly named compiler is not an executable file.
 */
export async function edgeTpuHeadCompiler(
  store: VariantStore,
  compilerPath?: string,
): Promise<{ compiler: HeadCompiler; path: string } | { compiler: null; warning: string }> {
  const path = await findEdgeTpuCompiler(compilerPath !== undefined ? { compilerPath } : {});
  if (path === undefined) {
    return {
      compiler: null,
      warning:
        'No edgetpu_compiler found (set $SWAPLESS_EDGETPU_COMPILER or put it on PATH): heads go to libedgetpu as split, which runs them on the CPU — measured times are not Edge TPU times',
    };
  }
  const compiler: HeadCompiler = async (_head, { variant }) =>
    (await store.compiledHead(variant, { compiler: 'edgetpu_compiler', compilerPath: path })).bytes;
  return { compiler, path };
}
