// Settings every package's vitest config starts from (house style rule 2: one shared config).
// Tests here run real models on the real TFLite runtime while turbo runs other packages' tests on the same two
// cores, so per-test time limits are generous: a limit is there to catch a hang, never to measure speed.
import { fileURLToPath } from 'node:url';
import { mergeConfig } from 'vitest/config';

/** @type {import('vitest/config').UserConfig} */
export const swaplessVitestBase = {
  test: {
    // Forks, not threads: the native addon, TFLite's thread pools and getenv() are process-wide.
    pool: 'forks',
    // A private TMPDIR per run, removed at the end (tools/vitest-tmpdir.mjs).
    globalSetup: [fileURLToPath(new URL('./vitest-tmpdir.mjs', import.meta.url))],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
};

/**
 * A package's vitest config: the shared base merged with the package's own settings.
 * @param {import('vitest/config').UserConfig} [config]
 */
export function swaplessVitest(config = {}) {
  return mergeConfig(swaplessVitestBase, config);
}
