import { swaplessVitest } from '../../tools/vitest.base.mjs';

export default swaplessVitest({
  test: {
    // Builds the mock Edge TPU library once (g++) and provides its path as inject('mockEdgeTpuLibrary').
    globalSetup: ['../../native/tflite-addon/test/mock-edgetpu/global-setup.mjs'],
  },
});
