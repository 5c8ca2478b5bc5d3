// split --verify's verdict: exact when the parts are bit-identical to the whole model on the same kernels — the
// default ones, or TFLite's reference kernels when only the accelerated kernels differ (as demo decides).
import { mkdtemp, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel, splitBytes, TensorType, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { verifyLines } from './commands/split.js';
import { verifySplit } from './split-verify.js';
import { cli } from './test-util.js';

const MOVENET = fileURLToPath(
  new URL('../../../fixtures/models/coral/movenet_single_pose_lightning_ptq.tflite', import.meta.url),
);
const FACE = createRequire(import.meta.url).resolve(
  '@mediapipe/face_detection/face_detection_short_range.tflite',
);

describe('split --verify', () => {
  it('movenet: only the accelerated kernels differ (XNNPACK runs the tail, not the whole model), so exit 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-split-verify-'));
    const args = ['split', MOVENET, '--at', '15', '--out', dir, '--verify', '--samples', '2'];
    const r = await cli(...args, '--json');
    expect(r.status, r.err).toBe(0);
    const v = JSON.parse(r.out).verify;
    expect(v).toMatchObject({
      exact: true,
      identical: false,
      delegates: { whole: [], tail: ['xnnpack'] },
      referenceKernels: { identical: true },
    });
    const text = await cli(...args);
    expect(text.status).toBe(0);
    expect(text.out).toContain(
      "verify:   bit-identical to the whole model on TFLite's reference kernels (XNNPACK off) on 2 seeded random input sets (seed 1); with the default kernels (whole: TFLite reference, head: TFLite reference, tail: xnnpack) the outputs differ: the difference comes from the accelerated kernels, not from the split",
    );
  });

  it('parts that differ on the reference kernels too are not exact (exit 1), and the text says so', async () => {
    const bytes = new Uint8Array(await readFile(FACE));
    const { head, tail, boundary } = splitBytes(bytes, 16);
    const t = readModel(tail!);
    // Change one fp16 weight of the tail (behind a DEQUANTIZE), an exponent bit: a split error, whatever the kernels.
    const g = t.subgraphs[0]!;
    const w = g.tensors.find((x) => x.buffer !== 0 && x.type === TensorType.FLOAT16)!;
    const data = t.buffers[w.buffer]!.data!.slice();
    data[1]! ^= 0x04;
    t.buffers[w.buffer] = { data };
    const v = verifySplit(readModel(bytes), bytes, { head, tail: writeModel(t) }, boundary, 2, 1);
    expect(v).toMatchObject({ exact: false, identical: false, referenceKernels: { identical: false } });
    const lines = verifyLines(v);
    expect(lines[0]).toMatch(
      /^ {2}verify: {3}NOT bit-identical to the whole model on 2 seeded random input sets/,
    );
    expect(lines.at(-1)).toBe("    on TFLite's reference kernels (XNNPACK off) the parts differ too");
    // The unchanged parts are exact on the default kernels, with no second comparison.
    const same = verifySplit(readModel(bytes), bytes, { head, tail }, boundary, 2, 1);
    expect(same).toMatchObject({ exact: true, identical: true, referenceKernels: null });
    expect(verifyLines(same)).toEqual([
      '  verify:   bit-identical to the whole model on 2 seeded random input sets (seed 1; kernels: xnnpack)',
    ]);
  });
});
