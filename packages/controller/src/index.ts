export { buildCatalog, type CatalogOptions, type CutCandidate, type TenantCatalog } from './catalog.js';
export {
  type PlannedTenant,
  systemSetup,
  type TenantChoice,
  tenantChoices,
  tenantSetup,
} from './setup.js';
export {
  type BaselinePolicy,
  baselineChoices,
  evenSplit,
  type Predictor,
  type SearchOptions,
  type SearchResult,
  searchConfiguration,
} from './search.js';
export {
  type PlanOptions,
  type PlanResult,
  type PolicyPlan,
  planWorkload,
  type SimulatedSystem,
  type SimulatedTenant,
  type Simulator,
} from './plan.js';
