/** The CLI draws library progress with the applications' shared drawer of `@swapless/core`. */
export { type ProgressSink, progressBar, renderProgress, stderrSink } from '@swapless/core';
