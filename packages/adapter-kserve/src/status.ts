/**
 * Error → HTTP status for the KServe routes: the project-wide table of `@swapless/core` (by stable code, never
 * the message), re-exported here so users of this adapter alone find it next to the routes.
 */
export { httpStatusOf, RETRY_AFTER_S, retryAfterOf } from '@swapless/core';
