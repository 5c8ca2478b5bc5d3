/**
 * Reading model files for the CLI, and the embedded default model: the real MediaPipe face detector that
 * ships in the `@mediapipe/face_detection` npm package (Apache-2.0), so the CLI works with no model at hand.
 */
import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SwapLessIoError } from '@swapless/core';
import { readModel, type TfliteModel } from '@swapless/tflite';
import { generateZooModel, isZooModelName } from '@swapless/zoo';

const require = createRequire(import.meta.url);

/** Path of the embedded default model (`face_detection_short_range.tflite`). */
export function defaultModelPath(): string {
  const pkg = require.resolve('@mediapipe/face_detection/package.json');
  return join(dirname(pkg), 'face_detection_short_range.tflite');
}

/** A model file read and verified. */
export interface LoadedModel {
  path: string;
  bytes: Uint8Array;
  model: TfliteModel;
}

/**
 * Resolves a MODEL argument: an existing file path is used as it is; otherwise a zoo model name
 * (`mobilenet_v2`, `resnet50_v1`, …) is generated (or taken from the cache) and its file path returned.
 */
export async function resolveModelPath(spec: string): Promise<string> {
  try {
    await access(spec);
    return spec;
  } catch {
    if (isZooModelName(spec)) return (await generateZooModel(spec)).path;
    return spec; // readBytes reports the missing file
  }
}

/** Reads raw bytes, turning file-system errors into SwapLessIoError with the path and the reason. */
export async function readBytes(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(err);
    throw new SwapLessIoError(
      `Expected a readable .tflite file for MODEL but received ${JSON.stringify(path)} (${reason})`,
      {
        cause: err,
        details: { path },
      },
    );
  }
}

/** Reads and verifies a .tflite file (InvalidModelError when it is malformed). */
export async function loadModel(spec: string): Promise<LoadedModel> {
  const path = await resolveModelPath(spec);
  const bytes = await readBytes(path);
  return { path, bytes, model: readModel(bytes) };
}
