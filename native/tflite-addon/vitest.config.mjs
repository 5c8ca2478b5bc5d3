import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.mjs'],
    // Builds the mock Edge TPU library once and provides its path as inject('mockEdgeTpuLibrary').
    globalSetup: ['test/mock-edgetpu/global-setup.mjs'],
    // Forks, not threads: the mock reads its settings with getenv(), which only sees process.env in a real process.
    pool: 'forks',
  },
});
