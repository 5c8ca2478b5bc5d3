import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { swaplessVitest } from '../../tools/vitest.base.mjs';

export default swaplessVitest({
  test: {
    // Tests pass their own cacheDir; this keeps any default-location write out of the user's real cache.
    env: { SWAPLESS_CACHE_DIR: join(tmpdir(), `swapless-profiler-test-${process.pid}`) },
  },
});
