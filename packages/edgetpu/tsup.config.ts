import { swaplessTsup } from '../../tools/tsup.base.mjs';

// vet-child.ts is the program vetModel() starts in a child process (dist/vet-child.js).
export default swaplessTsup({ entry: ['src/index.ts', 'src/vet-child.ts'] });
