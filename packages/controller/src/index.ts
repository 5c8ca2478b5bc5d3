export {
  buildCatalog,
  type CatalogOptions,
  type CompiledCatalogOptions,
  type CutCandidate,
  compiledCatalog,
  type TenantCatalog,
  type TenantKind,
} from './catalog.js';
export {
  catalogForProfile,
  catalogOn,
  type DeviceCatalogOptions,
  withDeviceCatalogs,
} from './catalog-devices.js';
export { type CatalogCpu, isModelledCpu, type ModelledCpuStages, modelledCpuStages } from './catalog-cpu.js';
export {
  assertServable,
  assertSplittable,
  classifyModel,
  edgetpuPart,
  type ServableOptions,
  type TenantClass,
  type TenantClassKind,
} from './classes.js';
export { type PlannedTenant, systemSetup, tenantChoices, tenantSetup } from './setup.js';
/** The vocabulary shared with the runtime, from `@swapless/contracts` (one definition, re-exported here). */
export type { Decision, NamedChoice, TenantChoice } from '@swapless/contracts';
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
  type PredictedTail,
  planWorkload,
  predictTails,
  type SimulatedSystem,
  type SimulatedTenant,
  type Simulator,
  simulatedSystem,
} from './plan.js';
export { type ArrivalOptions, poissonArrivals, type RatePhase, rateAt } from './arrivals.js';
export {
  poissonG,
  poissonG2,
  RateEstimator,
  type RateEstimatorOptions,
  type RateSnapshot,
} from './estimator.js';
export {
  type FastModel,
  type FastSearchOptions,
  type FastSearchResult,
  fastObjective,
  fastSearch,
  fastSearchApplicable,
  fastSearchPrepared,
  prepareFastModel,
  topConfigurations,
} from './fast.js';
export {
  type CoCompileOptions,
  type CoCompileResult,
  candidateGroupings,
  closedFormObjective,
  coCompileSearch,
  type Grouping,
  groupedTenants,
  layoutSetup,
  groupingOf,
  MAX_PARTITIONED,
  regroupedTenants,
  setStages,
  setsByName,
} from './cocompile.js';
export {
  chooseDiscipline,
  type DisciplineChoice,
  type DisciplineOptions,
  meanReloadMs,
  sameDiscipline,
} from './discipline.js';
export {
  addDelays,
  contentionOf,
  cutDelayMs,
  type DelayOptions,
  delayedPredictor,
  emulationLags,
  emulationPoolWaitMs,
} from './delays.js';
export { type HostContention, type HostShare, hostContention, type PoolLoad } from './contention.js';
export {
  type CorrectionOptions,
  type FactorKind,
  ServiceCorrection,
  type StageObservation,
} from './feedback.js';
export {
  type HysteresisOptions,
  SloBreachGate,
  SwitchCostModel,
  type SwitchQuestion,
  type SwitchVerdict,
  shouldSwitch,
} from './hysteresis.js';
export {
  createPolicy,
  cpuPolicy,
  defaultPolicy,
  type FixedOptions,
  fixedPolicy,
  type LoadObservation,
  type OracleCandidate,
  type OracleOptions,
  oraclePolicy,
  oracleSearch,
  POLICY_NAMES,
  type Policy,
  type PolicyContext,
  type PolicyName,
  type PolicyOptionsByName,
  type PolicyTenant,
  type SwaplessOptions,
  swaplessPolicy,
  EXPLORATION_WAIVER_MS,
  type TickObservations,
  type TickVerdict,
} from './policy.js';
export {
  DEFAULT_SLO_PERCENTILE,
  fractionWithin,
  hasSlo,
  type SearchedPlan,
  type SloCheck,
  type SloPlan,
  type SloPlanOptions,
  SloScreen,
  type SloSearchOptions,
  type SloSearchResult,
  simulatedAttainment,
  sloLevel,
  sloMissProbabilities,
  ADMISSION_CHANGED,
  SHED_BUDGET,
  SHED_RESERVE,
  SLO_MARGIN,
  sloPlan,
  sloSearch,
  sloSwitchReason,
  withSlos,
} from './slo.js';
export {
  type AppliedDecision,
  type PolicyRun,
  type PolicyRunTenant,
  type RunPolicyOptions,
  runPolicyInSim,
  type SimWorkload,
} from './simrun.js';
export {
  canonicalPlacements,
  DEVICE_CATALOG_REASON,
  deviceClasses,
  type PlacementCandidate,
  type PlacementOptions,
  type PlacementResult,
  perDevicePredictor,
  placementCandidates,
  placedSystem,
  searchPlacement,
} from './placement.js';
