import { swaplessVitest } from '../../tools/vitest.base.mjs';

export default swaplessVitest({
  test: {
    include: ['test/**/*.test.mjs'],
    // Builds the mock Edge TPU library once and provides its path as inject('mockEdgeTpuLibrary').
    globalSetup: ['test/mock-edgetpu/global-setup.mjs'],
  },
});
