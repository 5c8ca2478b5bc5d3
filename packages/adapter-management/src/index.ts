// Public API of @swapless/adapter-management. Keep exports explicit.
export {
  HISTORY_LIMIT,
  type ManagementBackend,
  type ManagementRoutesOptions,
  type ModelsListing,
  managementRoutes,
  managementStatusOf,
  TENANT_NAME_PATTERN,
  TENANT_SPEC_SCHEMA,
  TENANT_UPDATE_SCHEMA,
  type TenantSpec,
  type TenantUpdate,
} from './routes.js';
