// Public API of @swapless/server: the reference server (docs/server.md). Keep exports explicit.

export { type BannerInfo, formatBanner, type ServerUrls } from './banner.js';
export {
  EMBEDDED_CONFIG,
  ENV_OVERRIDES,
  envOverrides,
  type LoadedConfig,
  LOG_LEVELS,
  type LogLevel,
  loadConfig,
  type ParseConfigOptions,
  parseConfig,
  parseConfigText,
  SERVER_CONFIG_SCHEMA,
  SERVER_POLICIES,
  type ServerConfig,
  type ServerConfigInput,
  type ServerEdgeTpuConfig,
  type ServerPolicy,
  type ServerTenantConfig,
} from './config.js';
export { errorBody, installErrorHandling, RETRY_AFTER_S, STATUS_BY_CODE, statusOf } from './errors.js';
export {
  clearExamples,
  curlLine,
  type ExampleModel,
  examplePath,
  exampleRequest,
  removeExample,
  writeExamples,
} from './examples.js';
export { createLogger, type LoggerOptions } from './logger.js';
export {
  describeTenants,
  type FailedTenant,
  type RunningServer,
  SERVER_VERSION,
  type StartServerOptions,
  serviceOptionsOf,
  startServer,
} from './server.js';
export {
  openTenantState,
  type SavedTenant,
  STATE_LOCK_FILE,
  TENANT_STATE_FILE,
  TENANT_STATE_MAX_BYTES,
  TENANT_STATE_SCHEMA,
  TENANT_STATE_VERSION,
  TenantState,
  type TenantStateDocument,
} from './state.js';
export { parseServeArgs, SERVE_HELP, type ServeArgs } from './args.js';
export { type ServeIo, type ServeOptions, serve } from './serve.js';
