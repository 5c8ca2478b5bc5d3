// Public API of @swapless/server: the reference server (docs/server.md). Keep exports explicit.

export {
  type Access,
  AUTH_REALM,
  type AuthSummary,
  type AuthTokens,
  accessOf,
  bearerToken,
  type InstallAuthOptions,
  installAuth,
  isLoopbackHost,
} from './auth.js';
export {
  accessLines,
  type BannerDemoLoad,
  type BannerInfo,
  formatBanner,
  type ServerUrls,
} from './banner.js';
export {
  AUTH_CONFIG_SCHEMA,
  AUTH_ENV_OVERRIDES,
  type LoadedSecurity,
  loadSecurity,
  MAX_TOKEN_LENGTH,
  MIN_TOKEN_LENGTH,
  type ServerAuthConfig,
  type ServerTlsConfig,
  TLS_CONFIG_SCHEMA,
  TOKEN_PATTERN,
} from './security.js';
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
export {
  bannerDemoLoad,
  DEMO_LOAD_FILE,
  DEMO_LOAD_ROUTE,
  DEMO_LOAD_TARGET,
  DEMO_MAX_TOTAL_RATE,
  type DemoHost,
  type DemoLoad,
  type DemoLoadOptions,
  type DemoPhaseLoad,
  type DemoTenantCost,
  sizeDemoLoad,
} from './demo-load.js';
export { demoLoadOf, measureDemoCosts } from './demo-costs.js';
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
export { createLogger, type LoggerOptions, REDACTED_PATHS } from './logger.js';
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
