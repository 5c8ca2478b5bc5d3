/**
 * Worker threads that run TFLite interpreters off the event loop. A worker holds interpreters by key (one per
 * loaded segment) and runs one request at a time with the synchronous `invoke()` — the worker *is* the thread,
 * so there is no libuv-pool hop. The worker body is an inline script (eval) that imports `@swapless/edgetpu` by
 * the absolute URL resolved here, so the same code works from `dist/` and from vitest's TypeScript sources.
 */
import { Worker } from 'node:worker_threads';
import { type ErrorCode, SwapLessError } from '@swapless/core';
import type { TensorArray, TensorInfo } from '@swapless/edgetpu';

/** Options of a segment loaded into a worker. */
export interface LoadOptions {
  threads: number;
  delegate?: 'cpu' | 'edgetpu';
  edgetpu?: { library?: string; device?: string; options?: Record<string, string> };
}

/** Tensor metadata of a loaded segment. */
export interface SegmentInfo {
  inputs: readonly TensorInfo[];
  outputs: readonly TensorInfo[];
}

/** Result of one run in a worker; times are on the main thread's `performance.now()` clock. */
export interface RunResult {
  outputs: TensorArray[];
  startMs: number;
  endMs: number;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const origin = performance.timeOrigin;
const interpreters = new Map();
let api = null;
const backlog = [];
function fail(id, error) {
  parentPort.postMessage({ id, ok: false, error: {
    name: error && error.name, code: error && error.code, message: String(error && error.message || error),
    details: error && error.details,
  } });
}
function handle(msg) {
  const id = msg.id;
  try {
    if (msg.op === 'run') {
      const it = interpreters.get(msg.key);
      if (it === undefined) throw new Error('no segment loaded under key ' + msg.key);
      const t0 = performance.now();
      const inputs = msg.inputs;
      for (let i = 0; i < inputs.length; i++) it.setInput(i, inputs[i]);
      it.invoke();
      const n = it.outputs.length;
      const outputs = new Array(n);
      const transfer = new Array(n);
      for (let i = 0; i < n; i++) { outputs[i] = it.getOutput(i); transfer[i] = outputs[i].buffer; }
      const t1 = performance.now();
      parentPort.postMessage({ id, ok: true, outputs, t0: origin + t0, t1: origin + t1 }, transfer);
    } else if (msg.op === 'load') {
      const it = api.createInterpreter(msg.bytes, msg.options);
      interpreters.set(msg.key, it);
      parentPort.postMessage({ id, ok: true, info: { inputs: it.inputs, outputs: it.outputs } });
    } else if (msg.op === 'unload') {
      const it = interpreters.get(msg.key);
      interpreters.delete(msg.key);
      if (it !== undefined) it.dispose();
      parentPort.postMessage({ id, ok: true });
    }
  } catch (error) {
    fail(id, error);
  }
}
parentPort.on('message', (msg) => { if (api === null) backlog.push(msg); else handle(msg); });
import(workerData.edgetpuUrl).then(
  (mod) => { api = mod; for (const m of backlog.splice(0)) handle(m); },
  (error) => { api = { createInterpreter() { throw error; } }; for (const m of backlog.splice(0)) handle(m); },
);
`;

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

function toError(raw: {
  name?: string;
  code?: string;
  message: string;
  details?: Record<string, unknown>;
}): Error {
  const error =
    typeof raw.code === 'string' && raw.code.startsWith('SWAPLESS_')
      ? new SwapLessError(raw.code as ErrorCode, raw.message, { details: raw.details ?? {} })
      : new Error(raw.message);
  if (raw.name) error.name = raw.name;
  return error;
}

let edgetpuUrl: string | undefined;

/** One worker thread with its interpreters; every call is a request/response over its message port. */
export class TfliteWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #dead: Error | null = null;
  #exited: Promise<void>;
  /** Sequence number of this worker (for traces). */
  readonly id: number;
  /** Called once when the worker dies unexpectedly. */
  onDeath: ((error: Error) => void) | null = null;

  constructor(id: number) {
    this.id = id;
    edgetpuUrl ??= import.meta.resolve('@swapless/edgetpu');
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { edgetpuUrl } });
    this.#worker.on('message', (msg: { id: number; ok: boolean; error?: never }) => {
      const p = this.#pending.get(msg.id);
      if (p === undefined) return;
      this.#pending.delete(msg.id);
      if (msg.ok) p.resolve(msg as unknown as Record<string, unknown>);
      else p.reject(toError(msg.error as unknown as { message: string }));
    });
    this.#worker.on('error', (error) => this.#die(error));
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#die(new Error(`worker ${id} exited with code ${code}`));
        resolve();
      });
    });
  }

  #die(error: Error): void {
    if (this.#dead !== null) return;
    this.#dead = error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.onDeath?.(error);
  }

  /** True once the worker has exited or crashed. */
  get dead(): boolean {
    return this.#dead !== null;
  }

  #call(msg: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<Record<string, unknown>> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      msg.id = id;
      this.#worker.postMessage(msg, transfer);
    });
  }

  /** Creates an interpreter for `bytes` under `key`. */
  async load(key: string, bytes: Uint8Array, options: LoadOptions): Promise<SegmentInfo> {
    const reply = await this.#call({ op: 'load', key, bytes, options });
    return reply.info as SegmentInfo;
  }

  /** Runs the interpreter under `key` on `inputs` (copied to the worker); resolves with its outputs. */
  async run(key: string, inputs: readonly TensorArray[]): Promise<RunResult> {
    const reply = await this.#call({ op: 'run', key, inputs });
    const origin = performance.timeOrigin;
    return {
      outputs: reply.outputs as TensorArray[],
      startMs: (reply.t0 as number) - origin,
      endMs: (reply.t1 as number) - origin,
    };
  }

  /** Disposes the interpreter under `key` (no-op if absent). */
  async unload(key: string): Promise<void> {
    if (this.#dead !== null) return;
    await this.#call({ op: 'unload', key });
  }

  /** Terminates the thread (pending calls reject). */
  async terminate(): Promise<void> {
    if (this.#dead === null) {
      this.#dead = new Error(`worker ${this.id} was terminated`);
      for (const p of this.#pending.values()) p.reject(this.#dead);
      this.#pending.clear();
    }
    await this.#worker.terminate();
    await this.#exited;
  }
}

/** Reuses idle workers so reconfigurations do not pay a thread start and a runtime load each time. */
export class WorkerPool {
  readonly #idle: TfliteWorker[] = [];
  readonly #all = new Set<TfliteWorker>();
  readonly #maxIdle: number;
  #seq = 0;

  constructor(maxIdle: number) {
    this.#maxIdle = maxIdle;
  }

  /** Live workers (busy or idle). */
  get size(): number {
    return this.#all.size;
  }

  /** An idle worker, or a new one. */
  acquire(): TfliteWorker {
    let w = this.#idle.pop();
    while (w?.dead) {
      this.#all.delete(w);
      w = this.#idle.pop();
    }
    if (w !== undefined) return w;
    const fresh = new TfliteWorker(this.#seq++);
    this.#all.add(fresh);
    return fresh;
  }

  /** Returns a worker whose interpreters were unloaded; terminates it beyond `maxIdle`. */
  release(w: TfliteWorker): void {
    if (w.dead) {
      this.#all.delete(w);
      return;
    }
    if (this.#idle.length < this.#maxIdle) {
      this.#idle.push(w);
      return;
    }
    this.#all.delete(w);
    void w.terminate();
  }

  /** Terminates every worker. */
  async close(): Promise<void> {
    const all = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }
}
