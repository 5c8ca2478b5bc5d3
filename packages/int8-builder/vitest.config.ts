import { swaplessVitest } from '../../tools/vitest.base.mjs';

export default swaplessVitest();
