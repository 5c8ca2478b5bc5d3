/**
 * Segment variants: a model split at cut k into head and tail bytes plus the boundary that connects them,
 * cached per (model, k) so alternating between cuts re-splits nothing.
 */
import { createHash } from 'node:crypto';
import { expected, InvalidCutError, UnsupportedModelError } from '@swapless/core';
import {
  analyzeModel,
  runnability,
  type SplitBoundary,
  splitModel,
  type TfliteModel,
  writeModel,
} from '@swapless/tflite';
import { type CompileReport, callBreakdown, compileReport, type DeviceProfile } from '@swapless/tpu-emulator';

/** One split of one model. */
export interface Variant {
  /** `<model hash 8>:k=<k>`. */
  id: string;
  k: number;
  n: number;
  head: Uint8Array | null;
  tail: Uint8Array | null;
  boundary: SplitBoundary;
  /** Emulated compile report of the head (emulated backend only; null without a head). */
  report: CompileReport | null;
  /**
   * The head is an `*_edgetpu.tflite` made by edgetpu_compiler, given as it is (k = n, no split): it goes to the
   * Edge TPU delegate unchanged, never through a head compiler.
   */
  compiled: boolean;
}

/** SHA-256 of a model's bytes (hex): the cache key of its variants. */
export function modelHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A parsed model with its variants. */
export class ModelEntry {
  readonly hash: string;
  readonly model: TfliteModel;
  readonly bytes: Uint8Array;
  readonly n: number;
  /** Compiled by edgetpu_compiler: served whole on a real Edge TPU (its only cut is n). */
  readonly compiled: boolean;
  readonly #variants = new Map<number, Variant>();

  constructor(bytes: Uint8Array, model: TfliteModel, hash: string = modelHash(bytes)) {
    this.bytes = bytes;
    this.model = model;
    this.hash = hash;
    this.n = analyzeModel(model).ops.length;
    this.compiled = runnability(model).compiled;
  }

  /** Number of cached variants. */
  get size(): number {
    return this.#variants.size;
  }

  /** The variant at cut k (split and, for the emulator, compiled on first use). */
  variant(k: number, profile: DeviceProfile | null): Variant {
    if (!Number.isInteger(k) || k < 0 || k > this.n) {
      throw new InvalidCutError(
        expected(`an integer cut point between 0 and ${this.n}`, `a model of ${this.n} ops`, k),
      );
    }
    const hit = this.#variants.get(k);
    if (hit !== undefined) return hit;
    if (this.compiled) return this.#whole(k, profile);
    // The whole model on the CPU needs no split: the file as given is the tail (exact, and nothing is rewritten).
    if (k === 0) return this.#cpuOnly();
    const { head, tail, boundary } = splitModel(this.model, k);
    let report: CompileReport | null = null;
    if (head !== null && profile !== null) {
      report = compileReport(head, profile);
      // Fails now (UnsupportedModelError) for a head with no Edge TPU op, not at the first request.
      callBreakdown(report, profile);
    }
    const v: Variant = {
      id: `${this.hash.slice(0, 8)}:k=${k}`,
      k,
      n: this.n,
      head: head === null ? null : writeModel(head),
      tail: tail === null ? null : writeModel(tail),
      boundary,
      report,
      compiled: false,
    };
    this.#variants.set(k, v);
    return v;
  }

  /** Cut 0: no head, the model as given is the tail; its inputs and outputs are the model's, in order. */
  #cpuOnly(): Variant {
    const graph = this.model.subgraphs[0]!;
    const name = (t: number) => graph.tensors[t]?.name ?? '';
    const v: Variant = {
      id: `${this.hash.slice(0, 8)}:k=0`,
      k: 0,
      n: this.n,
      head: null,
      tail: this.bytes,
      boundary: {
        k: 0,
        n: this.n,
        tensors: [],
        outputs: graph.outputs.map((t, index) => ({ part: 'tail' as const, index, name: name(t) })),
        tailInputs: graph.inputs.map((t, index) => ({ from: 'input' as const, index, name: name(t) })),
        headInputs: [],
      },
      report: null,
      compiled: false,
    };
    this.#variants.set(0, v);
    return v;
  }

  /** The one variant of a compiled model: the file as given is the head (k = n), nothing on the CPU. */
  #whole(k: number, profile: DeviceProfile | null): Variant {
    if (profile !== null) {
      throw new UnsupportedModelError(
        'Expected an uncompiled model for the emulated Edge TPU but received a model compiled by edgetpu_compiler: ' +
          'give the .tflite that was passed to edgetpu_compiler, or serve it on a real Edge TPU',
      );
    }
    if (k !== this.n) {
      throw new InvalidCutError(
        expected(`cut ${this.n} (a compiled model runs whole on the Edge TPU)`, 'a compiled model', k),
      );
    }
    const graph = this.model.subgraphs[0]!;
    const name = (t: number) => graph.tensors[t]?.name ?? '';
    const v: Variant = {
      id: `${this.hash.slice(0, 8)}:k=${k}`,
      k,
      n: this.n,
      head: this.bytes,
      tail: null,
      boundary: {
        k,
        n: this.n,
        tensors: [],
        outputs: graph.outputs.map((t, index) => ({ part: 'head' as const, index, name: name(t) })),
        tailInputs: [],
        headInputs: graph.inputs.map((_, i) => i),
      },
      report: null,
      compiled: true,
    };
    this.#variants.set(k, v);
    return v;
  }
}
