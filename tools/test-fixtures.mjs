// The model files committed under fixtures/models (Coral's real models and their hostile copies), listed for the
// tests of every package: one listing instead of a readdir in each test file. Test-only; nothing published
// imports it. What each file is: fixtures/models/README.md.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fixtures/models directory of this repository. */
export const FIXTURE_MODELS_DIR = fileURLToPath(new URL('../fixtures/models/', import.meta.url));

/**
 * The .tflite files of fixtures/models/<kind>, sorted by file name, each with a short name
 * (`hostile/coral_keras_lstm_mnist_ptq-s1034-crash-SIGABRT`) and its absolute path.
 */
export function fixtureModels(kind) {
  if (kind !== 'coral' && kind !== 'hostile') {
    throw new TypeError(`Expected 'coral' or 'hostile' for fixtureModels(kind) but received ${String(kind)}`);
  }
  const dir = join(FIXTURE_MODELS_DIR, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tflite'))
    .sort()
    .map((f) => ({ name: `${kind}/${basename(f, '.tflite')}`, path: join(dir, f) }));
}
