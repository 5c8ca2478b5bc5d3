import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Builds the mock Edge TPU library once (g++) and provides its path as inject('mockEdgeTpuLibrary').
    globalSetup: ['../../native/tflite-addon/test/mock-edgetpu/global-setup.mjs'],
    // Forks, not threads: the mock reads its settings with getenv(), which only sees process.env in a real process.
    pool: 'forks',
    // The memory tests force garbage collection so RSS is measured after finalizers ran, not at GC's whim.
    execArgv: ['--expose-gc'],
    testTimeout: 120_000,
  },
});
