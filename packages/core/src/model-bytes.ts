/**
 * The bytes of a model given as bytes or as a file path: the one reader the profiler, the vetting process,
 * `createInterpreter` and anything else that accepts either use, so a missing file reads the same everywhere.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { expected } from './describe.js';
import { InvalidArgumentError, SwapLessIoError } from './errors.js';

function notAModel(model: unknown): InvalidArgumentError {
  return new InvalidArgumentError(expected('a Uint8Array or a .tflite file path', 'the model', model));
}

function unreadable(path: string, error: unknown): SwapLessIoError {
  return new SwapLessIoError(`Cannot read the model file ${path}: ${(error as Error).message}`, {
    cause: error,
    details: { path },
  });
}

/**
 * `model` itself when it is a Uint8Array, else the contents of the file at that path.
 *
 * @throws SwapLessIoError (with `details.path`) when the file cannot be read; InvalidArgumentError for any other
 *   kind of value.
 */
export async function modelBytes(model: unknown): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (typeof model !== 'string') throw notAModel(model);
  try {
    return new Uint8Array(await readFile(model));
  } catch (error) {
    throw unreadable(model, error);
  }
}

/**
 * {@link modelBytes}, reading the file synchronously: only for APIs that must stay synchronous (an interpreter is
 * created and returned in one call); everything else should use the asynchronous one.
 *
 * @throws the same errors as {@link modelBytes}.
 */
export function modelBytesSync(model: unknown): Uint8Array {
  if (model instanceof Uint8Array) return model;
  if (typeof model !== 'string') throw notAModel(model);
  try {
    const file = readFileSync(model);
    return new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  } catch (error) {
    throw unreadable(model, error);
  }
}
