import { swaplessVitest } from '../../tools/vitest.base.mjs';

export default swaplessVitest({
  // Packing and installing 18 packages (two of them compile the native addon) takes minutes, not seconds.
  test: { testTimeout: 600_000, hookTimeout: 600_000 },
});
