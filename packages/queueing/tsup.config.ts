import { swaplessTsup } from '../../tools/tsup.base.mjs';

// Two entries: the root, and the conformance kit as its own subpath (`@swapless/queueing/conformance`) so a
// plugin's test suite can import the kit alone.
export default swaplessTsup({ entry: ['src/index.ts', 'src/conformance.ts'] });
