// Public API of @swapless/adapter-dashboard: the live dashboard (page, assets, data endpoint) on fastify.
// What each chart shows and the data endpoint: docs/metrics-dashboard.md. Keep exports explicit.

export { dashboardRoutes, type DashboardRoutesOptions } from './routes.js';
export type {
  DashboardController,
  DashboardData,
  DashboardDecision,
  DashboardDevice,
  DashboardSample,
  DashboardSource,
  DashboardTenant,
} from './types.js';
