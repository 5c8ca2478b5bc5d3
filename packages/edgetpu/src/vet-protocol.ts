/**
 * What the vetting process (vet-child.ts) and `vetModel` (vet.ts) say to each other: the job on the command line,
 * the model on stdin, and JSON lines on fd 3 back.
 */
import type { InterpreterOptions } from './runtime.js';

/** The job, passed as the child's only argument (JSON). */
export interface VetJob {
  /** Interpreter options tried in turn, each: create → seeded inputs → invoke → outputs → dispose. */
  configurations: InterpreterOptions[];
  /** Seed of the input values. */
  seed: number;
}

/** Where the vetting process was when it last reported. */
export type VetStage = 'create' | 'set-input' | 'invoke' | 'get-output' | 'dispose';

/** A tensor as the vetting process saw it. */
export interface VetTensor {
  name: string;
  type: string;
  shape: number[];
}

/** One line on fd 3. */
export type VetMessage =
  | { kind: 'stage'; stage: VetStage; configuration: number }
  | { kind: 'done'; ms: number; shapes: { inputs: VetTensor[]; outputs: VetTensor[] } }
  | {
      kind: 'error';
      /** True for a SwapLess error (it is re-created as the same class in the caller). */
      typed: boolean;
      error: { name: string; code: string; message: string; details: Record<string, unknown> };
    };
