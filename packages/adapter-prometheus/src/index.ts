// Public API of @swapless/adapter-prometheus: the SwapLess series over prom-client and the /metrics route.
// Series, labels and queries: docs/metrics-dashboard.md. Keep exports explicit.

export {
  createMetrics,
  DEFAULT_BUCKETS,
  EXCLUDED_DEFAULT_METRICS,
  type Metrics,
  type MetricsOptions,
} from './metrics.js';
export { type MetricsExposition, metricsRoutes, type MetricsRoutesOptions } from './routes.js';
export type {
  MetricsCpuTrace,
  MetricsGauges,
  MetricsSource,
  MetricsTenantGauges,
  MetricsTpuTrace,
  MetricsTrace,
} from './types.js';
