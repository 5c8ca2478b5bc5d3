// Public API of @swapless/zoo: architecture-faithful int8 .tflite models generated deterministically.

// --- registry
export {
  type PublishedFigures,
  ZOO_MODEL_NAMES,
  ZOO_MODELS,
  type ZooModelInfo,
  type ZooModelName,
} from './registry.js';

// --- building in memory
export { assertZooModelName, type BuildZooModelOptions, buildZooModel, isZooModelName } from './build.js';

// --- generation to files, with the cache
export {
  type GeneratedZooModel,
  type GenerateZooOptions,
  generateZoo,
  generateZooModel,
  ZOO_GENERATOR_VERSION,
  zooCacheFileName,
} from './generate.js';
