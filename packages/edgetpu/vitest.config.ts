import { swaplessVitest } from '../../tools/vitest.base.mjs';

export default swaplessVitest({
  test: {
    // Builds the mock Edge TPU library once (g++) and provides its path as inject('mockEdgeTpuLibrary').
    globalSetup: ['../../native/tflite-addon/test/mock-edgetpu/global-setup.mjs'],
    // The memory tests force garbage collection so RSS is measured after finalizers ran, not at GC's whim.
    execArgv: ['--expose-gc'],
  },
});
