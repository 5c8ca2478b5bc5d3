/**
 * @swapless/profiler: CPU service times of model parts (suffix [k,n) and prefix [0,k) per cut and thread
 * count) measured on the real TFLite runtime with XNNPACK, as distributions, cached and schema-validated.
 * What is measured and how, the JSON format and the cache: docs/profiler.md.
 */

// --- the document
export type {
  CutProfile,
  HostIdentity,
  Measurement,
  ModelIdentity,
  PartName,
  PartProfile,
  Profile,
  ProfileResult,
  ProfileSettings,
  RuntimeIdentity,
} from './types.js';
export { PROFILE_KIND, PROFILE_SCHEMA_VERSION, PROFILE_TIMER } from './types.js';

// --- measuring
export {
  DEFAULT_BLOCK_SIZE,
  DEFAULT_REPETITIONS,
  DEFAULT_WARMUP,
  type ProfileOptions,
  profileModel,
} from './profile.js';
export { autoCuts, type CutSelection, DEFAULT_MAX_CUTS } from './cuts.js';
export { type InterpreterFactory, defaultInterpreterFactory } from './measure.js';
export { summarize } from './stats.js';
export { hostIdentity } from './cache.js';

// --- schema, load, save
export {
  InvalidProfileError,
  loadProfile,
  PROFILE_JSON_SCHEMA,
  saveProfile,
  validateProfile,
} from './schema.js';

// --- views
export {
  cutProfile,
  type MonotonicityOptions,
  type MonotonicityReport,
  type MonotonicityViolation,
  monotonicity,
  partTime,
  prefixTime,
  profiledCuts,
  profiledThreads,
  suffixTime,
} from './views.js';

// --- modelled CPUs (every profile but `host`): docs/cpu-profiles.md
export {
  type CpuOpClass,
  type CpuOpWork,
  cpuOpWork,
  type ModelCpuProfileOptions,
  type ModelledCpuProfile,
  type ModelledCut,
  modelCpuProfile,
  modelledModelMs,
  modelledOpMs,
  modelledPartMs,
  modelProfileOf,
} from './cpu-model.js';
export { HELD_OUT_TOLERANCE, PUBLISHED_CPU_FIGURES, type PublishedCpuFigure } from './cpu-calibration.js';
