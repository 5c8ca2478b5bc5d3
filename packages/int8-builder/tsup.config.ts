import { swaplessTsup } from '../../tools/tsup.base.mjs';

export default swaplessTsup();
