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
    if (this.compiled) this.#checkCompiled(k, profile);
    // At the ends (k = 0, k = n) the splitter returns the model itself as the whole side: its bytes are served as
    // given, exactly what the profiler measured there, and a model no inner cut of which can be used still runs.
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
      head: this.#bytesOf(head),
      tail: this.#bytesOf(tail),
      boundary,
      report,
      compiled: this.compiled,
    };
    this.#variants.set(k, v);
    return v;
  }

  /** A part's bytes: the model's own bytes for the model itself (an end), else the part written out. */
  #bytesOf(part: TfliteModel | null): Uint8Array | null {
    if (part === null) return null;
    return part === this.model ? this.bytes : writeModel(part);
  }

  /** A compiled model runs only whole (k = n, the file as given is the head) and only on a real Edge TPU. */
  #checkCompiled(k: number, profile: DeviceProfile | null): void {
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
  }
}
