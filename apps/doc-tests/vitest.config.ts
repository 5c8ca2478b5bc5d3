import { swaplessVitest } from '../../tools/vitest.base.mjs';

// Snippets run in child processes, three at a time: on two cores, a third keeps the CPU busy while the others
// wait on their own children (model vetting, servers starting).
export default swaplessVitest({ test: { maxConcurrency: 3 } });
