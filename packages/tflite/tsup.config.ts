import { swaplessTsup } from '../../tools/tsup.base.mjs';

// Two entries: the package API, and `@swapless/tflite/testing` (the fuzz mutator) for benches and tests.
export default swaplessTsup({ entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } });
