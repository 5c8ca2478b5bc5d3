// The one tsup configuration every TypeScript package extends (house style rule 2).
// A package's tsup.config.ts calls `swaplessTsup({ entry: [...] })`.
import { defineConfig } from 'tsup';

/**
 * @param {import('tsup').Options} overrides
 */
export function swaplessTsup(overrides = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  });
}
