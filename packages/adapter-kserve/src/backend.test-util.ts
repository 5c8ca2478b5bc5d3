// Test-only: an InferenceBackend on real TFLite interpreters (@swapless/edgetpu), over real models built with
// @swapless/tflite. Not part of the package (tsup bundles from index.ts only).
import type { ModelMetadata, TensorArray, TensorMeta } from '@swapless/contracts';
import { createInterpreter, type Interpreter } from '@swapless/edgetpu';
import { GraphBuilder, tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { datatypeFromTflite } from './datatypes.js';
import type { BackendResult, InferCallOptions, InferenceBackend } from './types.js';

/** `tiny`: FP32 [1,4] y = x + x. */
export function tinyBytes(): Uint8Array {
  return writeModel(tinyModel({ shape: [1, 4] }));
}

/** `tiny8`: INT8 [1,4] y = x + x. */
export function tinyInt8Bytes(): Uint8Array {
  return writeModel(tinyModel({ type: 'int8', shape: [1, 4] }));
}

/** `two`: inputs a FP32 [1,4] and b INT8 [2,2]; outputs sum FP32 [1,4] and prod INT8 [1,4]. */
export function twoInTwoOutBytes(): Uint8Array {
  const b = new GraphBuilder({ seed: 1, name: 'two' });
  const a = b.input('a', [1, 4], { type: 'float32' });
  const c = b.input('b', [2, 2], { type: 'int8' });
  const r = b.reshape(c, [1, 4]);
  b.output(b.add(a, r), { name: 'sum', type: 'float32' });
  b.output(b.mul(a, r), { name: 'prod' });
  return writeModel(b.build());
}

function metaOf(name: string, it: Interpreter): ModelMetadata {
  const tensor = (t: Interpreter['inputs'][number]): TensorMeta => ({
    name: t.name,
    datatype: datatypeFromTflite(t.type)!,
    shape: [...t.shape],
  });
  return Object.freeze({
    name,
    versions: ['1'],
    platform: 'tflite',
    inputs: it.inputs.map(tensor),
    outputs: it.outputs.map(tensor),
  });
}

/** An interpreter backend with switches for the not-live / not-ready / failure paths. */
export class InterpreterBackend implements InferenceBackend {
  readonly #models = new Map<string, { it: Interpreter; meta: ModelMetadata }>();
  live = true;
  ready = true;
  readonly notReady = new Set<string>();
  /** Thrown by the next infer (then cleared). */
  failNext: unknown = undefined;
  /** Requests served. */
  served = 0;
  /** Options of the last `infer` call. */
  lastOptions: InferCallOptions | undefined = undefined;
  /** Thrown by every `admit` while set. */
  refuseAdmission: unknown = undefined;
  /** `admit` calls: model and deadline. */
  readonly admissions: { name: string; deadlineMs: number }[] = [];
  /** `onServed` calls: model, server time and the result's parameters. */
  readonly servedCalls: { name: string; serverMs: number; parameters: unknown }[] = [];

  constructor(models: Record<string, Uint8Array>) {
    for (const [name, bytes] of Object.entries(models)) {
      const it = createInterpreter(bytes);
      this.#models.set(name, { it, meta: metaOf(name, it) });
    }
  }

  isLive(): boolean {
    return this.live;
  }
  isReady(): boolean {
    return this.ready;
  }
  modelNames(): string[] {
    return [...this.#models.keys()];
  }
  modelMetadata(name: string): ModelMetadata | undefined {
    return this.#models.get(name)?.meta;
  }
  isModelReady(name: string): boolean {
    return this.#models.has(name) && !this.notReady.has(name);
  }
  admit(name: string, deadlineMs: number): void {
    this.admissions.push({ name, deadlineMs });
    if (this.refuseAdmission !== undefined) throw this.refuseAdmission;
  }
  onServed(name: string, serverMs: number, result: BackendResult): void {
    this.servedCalls.push({ name, serverMs, parameters: result.parameters });
  }
  async infer(name: string, inputs: TensorArray[], options?: InferCallOptions): Promise<BackendResult> {
    this.lastOptions = options;
    if (this.failNext !== undefined) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    const m = this.#models.get(name)!;
    // A tiny model runs in microseconds: invoking on the main thread is cheaper than a thread-pool hop.
    for (let i = 0; i < inputs.length; i++) m.it.setInput(i, inputs[i]!);
    m.it.invoke();
    this.served++;
    return {
      outputs: m.meta.outputs.map((_, i) => m.it.getOutput(i)),
      parameters: { backend: 'test-interpreter' },
    };
  }
  close(): void {
    for (const m of this.#models.values()) m.it.dispose();
  }
}
