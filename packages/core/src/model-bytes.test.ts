import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, SwapLessIoError } from './errors.js';
import { modelBytes, modelBytesSync } from './model-bytes.js';

const dir = mkdtempSync(join(tmpdir(), 'swapless-model-bytes-'));
const file = join(dir, 'm.tflite');
writeFileSync(file, Uint8Array.of(1, 2, 3));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['modelBytes', (m: unknown) => modelBytes(m)],
  ['modelBytesSync', async (m: unknown) => modelBytesSync(m)],
])('%s', (_name, read) => {
  it('returns bytes as given and reads a path', async () => {
    const bytes = Uint8Array.of(9);
    expect(await read(bytes)).toBe(bytes);
    expect(Array.from(await read(file))).toEqual([1, 2, 3]);
  });

  it('a file that cannot be read: SwapLessIoError with the path', async () => {
    const missing = join(dir, 'missing.tflite');
    const error = await read(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwapLessIoError);
    expect((error as SwapLessIoError).details).toEqual({ path: missing });
    expect((error as Error).message).toMatch(/^Cannot read the model file .*missing\.tflite: ENOENT/);
  });

  it('anything else: InvalidArgumentError', async () => {
    await expect(read(42)).rejects.toThrow(
      /^Expected a Uint8Array or a \.tflite file path for the model but received 42$/,
    );
    await expect(read(null)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
