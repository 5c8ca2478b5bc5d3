/**
 * The bytes of a model given as bytes or as a file path: the one reader the profiler, the vetting process and
 * anything else that accepts either use, so a missing file reads the same everywhere.
 */
import { readFile } from 'node:fs/promises';
import { expected } from './describe.js';
import { InvalidArgumentError, SwapLessIoError } from './errors.js';

/**
 * `model` itself when it is a Uint8Array, else the contents of the file at that path.
 *
 * @throws SwapLessIoError (with `details.path`) when the file cannot be read; InvalidArgumentError for any other
 *   kind of value.
 */
export async function modelBytes(model: unknown): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (typeof model !== 'string') {
    throw new InvalidArgumentError(expected('a Uint8Array or a .tflite file path', 'the model', model));
  }
  try {
    return new Uint8Array(await readFile(model));
  } catch (error) {
    throw new SwapLessIoError(`Cannot read the model file ${model}: ${(error as Error).message}`, {
      cause: error,
      details: { path: model },
    });
  }
}
