/**
 * What turns a head segment (ops [0,k) as split) into bytes the real Edge TPU runs: the `*_edgetpu.tflite` that
 * `edgetpu_compiler` makes of it, compiled once per head and cached by @swapless/compiler. Without a compiler the
 * delegate gets the head as split (libedgetpu then runs it on the CPU) and the service says so in a warning.
 */
import { readFile } from 'node:fs/promises';
import { findEdgeTpuCompiler, variants } from '@swapless/compiler';
import { SwapLessIoError } from '@swapless/core';
import { analyzeModel, readModel } from '@swapless/tflite';

/** `compileHead` of the runtime's Edge TPU backend. */
export type HeadCompiler = (head: Uint8Array, info: { tenant: string; k: number }) => Promise<Uint8Array>;

/**
 * Finds `edgetpu_compiler` (`compilerPath`, else `$SWAPLESS_EDGETPU_COMPILER`, else PATH) and returns a head
 * compiler that runs it, or `{ compiler: null, warning }` when there is none.
 * @throws InvalidArgumentError when an explicitly named compiler is not an executable file.
 */
export async function edgeTpuHeadCompiler(
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
  const compiler: HeadCompiler = async (head) => {
    // The head is a model of its own: compiling it whole (cut = its op count) gives its *_edgetpu.tflite.
    const n = analyzeModel(readModel(head)).n;
    const [variant] = await variants(head, [n], { compiler: 'edgetpu_compiler', compilerPath: path });
    const file = variant?.files.tpuCompiled ?? null;
    if (file === null) {
      throw new SwapLessIoError(
        `Expected edgetpu_compiler (${path}) to write a compiled head but received none for a head of ${n} ops`,
      );
    }
    return new Uint8Array(await readFile(file));
  };
  return { compiler, path };
}
