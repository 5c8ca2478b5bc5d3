// `@swapless/tflite/testing`: the seeded model mutator, for fuzz benches and other packages' hostile-input
// tests. Not part of the format API (the package index never re-exports it); its output is deterministic per
// seed so a failure found anywhere can be reproduced from the seed alone.

export { divisionByZeroModel } from './crashing-model.js';
export type { FieldKind, FieldStorage, LocatedField } from './locate.js';
export { locateFields } from './locate.js';
export type { ByteMutationKind, Mutant, MutateOptions, MutationKind, StructureMap } from './mutate.js';
export { createRng, MUTATION_KINDS, mapStructure, mutate, SEMANTIC_MUTATION_KINDS } from './mutate.js';
