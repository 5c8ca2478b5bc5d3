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
  /**
   * Time the vetting process may live, ms from its start. Its watchdog kills it past this, and as soon as the
   * process that started it is gone, even while its main thread is stuck in TFLite: the parent's own timeout
   * cannot fire once the parent itself is dead (killed by a signal, it runs no exit handler).
   */
  deadlineMs: number;
  /**
   * The process id of the process that started it (sent rather than read in the child: a parent that died before the
   * child looked would otherwise go unnoticed). Absent: the child's parent when it starts.
   */
  parentPid?: number;
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
  /** Written by the watchdog just before it kills the process at its deadline: a timeout, not a crash. */
  | { kind: 'deadline' }
  | {
      kind: 'error';
      /** True for a SwapLess error (it is re-created as the same class in the caller). */
      typed: boolean;
      error: { name: string; code: string; message: string; details: Record<string, unknown> };
    };
