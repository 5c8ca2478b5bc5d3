import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Forks, not threads: the native addon and TFLite's thread pools are process-wide.
    pool: 'forks',
    // Tests pass their own cacheDir; this keeps any default-location write out of the user's real cache.
    env: { SWAPLESS_CACHE_DIR: join(tmpdir(), `swapless-profiler-test-${process.pid}`) },
    testTimeout: 60_000,
  },
});
