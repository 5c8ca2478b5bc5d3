import { swaplessTsup } from '../../tools/tsup.base.mjs';

export default swaplessTsup({ entry: ['src/main.ts'], dts: false });
