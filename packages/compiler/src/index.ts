// Public API of @swapless/compiler: segment variants per cut and co-compiled sets, compiled by
// edgetpu_compiler when installed or reported by the emulator. Docs: docs/compiler.md. Keep exports explicit.

// --- variants and co-compiled sets (the main entry points)
export {
  type CoCompiledSegment,
  type CoCompiledSet,
  coCompile,
  type Variant,
  type VariantFiles,
  type VariantOptions,
  VARIANTS_CACHE,
  variants,
} from './variants.js';

// --- the serving variants of every (model, k): one split, one report, one compiled head, bounded
export {
  type CompiledHead,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_MODELS,
  DEFAULT_MAX_SETS,
  DEFAULT_MAX_VARIANTS,
  defaultVariantStore,
  type ServedVariant,
  type StoredModel,
  VariantStore,
  type VariantStoreEvent,
  type VariantStoreOptions,
  type VariantStoreStats,
} from './variant-store.js';

// --- choosing the compiler
export type {
  CompilerChoice,
  CompilerIdentity,
  CompilerOptions,
} from './backend.js';

// --- the report shape (the emulator's, or the same fields from a real compile)
export {
  DERIVED_FIELDS,
  type EdgeTpuCompilerReport,
  type EdgeTpuModelCompileReport,
  type ReportSource,
  reportFromCompilerRun,
  type SegmentCompileReport,
} from './report.js';

// --- the real edgetpu_compiler: locate, run, parse
export {
  COMPILER_ENV,
  COMPILER_NAME,
  DEFAULT_COMPILER_TIMEOUT_SEC,
  DEFAULT_PROCESS_TIMEOUT_MS,
  edgeTpuCompilerArgs,
  edgeTpuCompilerVersion,
  type EdgeTpuRunModel,
  type EdgeTpuRunOptions,
  type EdgeTpuRunResult,
  findEdgeTpuCompiler,
  runEdgeTpuCompiler,
} from './edgetpu.js';
export {
  type OperationRow,
  operationCounts,
  type ParsedCompilerOutput,
  type ParsedModelBlock,
  type ParsedOperationLog,
  parseCompilerOutput,
  parseOperationLog,
} from './parse.js';
export { formatSize, parseSize } from './units.js';
export { intermediateTensorsForCut } from './cut-tensors.js';

// --- errors (core's stable codes; the subclass says what failed)
export { CompilerFailedError, type CompilerFailureReason, CompilerTimeoutError } from './errors.js';
