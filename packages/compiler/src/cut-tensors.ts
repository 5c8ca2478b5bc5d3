/**
 * The real compiler's way to make a cut: `edgetpu_compiler -i name1,name2,… model.tflite` ends the Edge TPU
 * part at the named tensors. SwapLess compiles the split head instead (it already ends at the cut), but a
 * whole-model compile ending exactly at cut k needs these names.
 */
import { analyzeModel, boundaryAt, type TfliteModel } from '@swapless/tflite';

/**
 * Names to pass to `-i/--intermediate_tensors` so that a compile of the whole model ends its Edge TPU part at
 * cut k: the boundary tensors the head produces (docs/splitting.md). Empty for k = 0 (nothing runs on the
 * Edge TPU: do not compile at all) and for k = n (the whole model maps as far as it can: no `-i` needed).
 *
 * @throws InvalidCutError when k is not an integer in 0..n.
 */
export function intermediateTensorsForCut(model: TfliteModel, k: number): string[] {
  const boundary = boundaryAt(model, k);
  if (k === analyzeModel(model).n) return [];
  return boundary.filter((b) => b.source === 'head').map((b) => b.name);
}
