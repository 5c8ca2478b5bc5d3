/**
 * Worker threads that run TFLite interpreters off the event loop. A worker holds interpreters by key (one per
 * loaded segment) and runs requests one at a time with the synchronous `invoke()` — the worker *is* the thread,
 * so there is no libuv-pool hop. The worker body is an inline script (eval) that imports `@swapless/edgetpu` by
 * the absolute URL resolved here, so the same code works from `dist/` and from vitest's TypeScript sources.
 *
 * Hot path (measured in bench/runtime-bench.mjs, rationale in docs/runtime.md):
 * - the worker does not sit in its event loop: it blocks in `Atomics.wait` on a shared control word and takes
 *   its messages with `receiveMessageOnPort` (a futex wake instead of libuv's async handle + a 'message' event);
 * - optionally (`spinUs`, CPU-stage workers with a core of their own) it polls that word briefly before it sleeps,
 *   so a back-to-back request skips the wake-up of a sleeping thread on an idle vCPU;
 * - no structured clone of tensors: the main thread copies each input once into a staging `ArrayBuffer` of this
 *   segment and *transfers* it together with pre-allocated output buffers; the worker runs
 *   `setInput(view) → invoke() → getOutput(i, view)` on them and transfers all of them back. Staging buffers are
 *   reused; output buffers become the caller's arrays, and the next set is allocated right after a request is
 *   sent, i.e. while the worker computes, not on the critical path;
 * - callbacks instead of promises per request, runs matched to replies by order (no object per request), compact
 *   array messages, `Atomics.notify` only when the worker sleeps, output buffers not zero-filled (the worker
 *   overwrites them) or the caller's own (`SubmitOptions.reuse`).
 */

import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { TensorArray } from '@swapless/contracts';
import { type ErrorCode, expected, InvalidArgumentError, SwapLessError } from '@swapless/core';
import { type PreparedModel, type TensorInfo, TYPED_ARRAYS } from '@swapless/edgetpu';

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

/**
 * Completion of {@link TfliteWorker.run}: `error` is null on success; `startMs`/`endMs` bracket
 * setInput + invoke + getOutput inside the worker (main-thread clock). Called once per run, never synchronously
 * from `run` itself.
 */
export type RunCallback<T> = (
  tag: T,
  error: Error | null,
  outputs: TensorArray[] | null,
  startMs: number,
  endMs: number,
) => void;

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const origin = performance.timeOrigin;
const port = workerData.port;
const ctrl = new Int32Array(workerData.ctrl);
const spinUs = workerData.spinUs;
const interpreters = new Map();
let api = null;
// Replies to runs wait here while more runs are already waiting in the port, and go as one message
// ([-1, replies]) when the port is drained or the oldest has waited BATCH_MS: a burst costs the main thread one
// message event, not one each.
const BATCH_MS = 0.25;
let replies = null;
let transfers = null;
let since = 0;
function reply(r, transfer) {
  if (replies === null) { replies = [r]; transfers = transfer; since = performance.now(); return; }
  replies.push(r);
  for (let i = 0; i < transfer.length; i++) transfers.push(transfer[i]);
}
function flush() {
  if (replies === null) return;
  if (replies.length === 1) port.postMessage(replies[0], transfers);
  else port.postMessage([-1, replies], transfers);
  replies = null;
  transfers = null;
}
function ctorsOf(list) { return list.map((t) => globalThis[t.arrayType] || Uint8Array); }
function errorOf(error) {
  return { name: error && error.name, code: error && error.code, message: String(error && error.message || error),
    details: error && error.details };
}
function run(key, ins, outs) {
  const seg = interpreters.get(key);
  if (seg === undefined) throw new Error('no segment loaded under key ' + key);
  const it = seg.it, ic = seg.ic, oc = seg.oc;
  const t0 = performance.now();
  for (let i = 0; i < ins.length; i++) it.setInput(i, new ic[i](ins[i]));
  it.invoke();
  for (let i = 0; i < outs.length; i++) it.getOutput(i, new oc[i](outs[i]));
  const t1 = performance.now();
  const transfer = outs.slice();
  for (let i = 0; i < ins.length; i++) transfer.push(ins[i]);
  reply([origin + t0, origin + t1, ins, outs], transfer);
}
function handle(msg) {
  if (Array.isArray(msg)) {
    // [0, key, inputs, outputs]: one run; [2, [key, inputs, outputs, key, …]]: runs posted together (compact
    // arrays: cheaper to clone than objects).
    if (msg[0] === 0) {
      try { run(msg[1], msg[2], msg[3]); } catch (error) { reply([errorOf(error)], []); }
      return;
    }
    const runs = msg[1];
    for (let i = 0; i < runs.length; i += 3) {
      try { run(runs[i], runs[i + 1], runs[i + 2]); } catch (error) { reply([errorOf(error)], []); }
      if (replies !== null && performance.now() - since >= BATCH_MS) flush();
    }
    return;
  }
  flush();
  const id = msg.id;
  try {
    if (msg.op === 'load') {
      const it = api.createInterpreter(msg.bytes, msg.options);
      interpreters.set(msg.key, { it, ic: ctorsOf(it.inputs), oc: ctorsOf(it.outputs) });
      port.postMessage({ id, ok: true, info: { inputs: it.inputs, outputs: it.outputs } });
    } else if (msg.op === 'unload') {
      const seg = interpreters.get(msg.key);
      interpreters.delete(msg.key);
      if (seg !== undefined) seg.it.dispose();
      port.postMessage({ id, ok: true });
    }
  } catch (error) {
    port.postMessage({ id, ok: false, error: errorOf(error) });
  }
}
function loop() {
  // ctrl[0] counts the messages the main thread has posted (bumped after each post), so the worker takes exactly
  // that many and never pays an empty receiveMessageOnPort between requests.
  let got = 0;
  for (;;) {
    let sent = Atomics.load(ctrl, 0);
    while (got !== sent) {
      const r = receiveMessageOnPort(port);
      if (r === undefined) break;
      got++;
      handle(r.message);
      sent = Atomics.load(ctrl, 0);
      if (replies !== null && (got === sent || performance.now() - since >= BATCH_MS)) flush();
    }
    flush();
    if (got !== sent) continue;
    if (spinUs > 0) {
      // Bounded spin before sleeping: a request sent right after the previous completion is taken without a
      // futex wake-up of this thread (and the main thread skips Atomics.notify: the sleep flag is not set).
      const t = performance.now();
      let n = 0;
      while (Atomics.load(ctrl, 0) === got && ((++n & 31) !== 0 || performance.now() - t < spinUs / 1000)) {}
      if (Atomics.load(ctrl, 0) !== got) continue;
    }
    // Announce the sleep, then re-check: the main thread only pays Atomics.notify when this flag is set.
    Atomics.store(ctrl, 1, 1);
    if (Atomics.load(ctrl, 0) === got) Atomics.wait(ctrl, 0, got);
    Atomics.store(ctrl, 1, 0);
  }
}
import(workerData.edgetpuUrl).then(
  (mod) => { api = mod; loop(); },
  (error) => { api = { createInterpreter() { throw error; } }; loop(); },
);
`;

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

type TypedArrayCtor = new (buffer: ArrayBuffer) => TensorArray;

const CTORS = TYPED_ARRAYS as unknown as Record<string, TypedArrayCtor>;

/** Main-thread side of a loaded segment: tensor sizes and the staging/output buffers it reuses. */
interface Segment {
  inCtors: TypedArrayCtor[];
  inBytes: number[];
  outCtors: TypedArrayCtor[];
  outBytes: number[];
  /** Staging input buffers back from the worker, ready for reuse. */
  spareIn: ArrayBuffer[][];
  /** Output buffers allocated ahead (one set is kept ready). */
  spareOut: ArrayBuffer[][];
}

/** Reply to a control call (load/unload). */
interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

interface Reply {
  id: number;
  ok: boolean;
  error?: { message: string };
}

/** Reply to a run: `[t0, t1, inputs, outputs]` on success, `[error]` on failure (runs complete in order). */
type RunReply = [number, number, ArrayBuffer[], ArrayBuffer[]] | [{ message: string }];

/** Replies to consecutive runs in one message (the worker batches those of a burst). */
type RunReplies = [-1, RunReply[]];

let edgetpuUrl: string | undefined;

function allocate(bytes: readonly number[]): ArrayBuffer[] {
  const list = new Array<ArrayBuffer>(bytes.length);
  for (let i = 0; i < bytes.length; i++) list[i] = new ArrayBuffer(bytes[i]!);
  return list;
}

/**
 * Output buffers: not zero-filled (half the cost of `new ArrayBuffer` for tens of KB). Safe because the worker
 * overwrites every byte (`getOutput` copies exactly the tensor's byte size) before a buffer reaches a caller;
 * a failed run never hands its buffers out. `allocUnsafeSlow` gives each buffer its own, transferable store.
 */
function allocateOutputs(bytes: readonly number[]): ArrayBuffer[] {
  const list = new Array<ArrayBuffer>(bytes.length);
  for (let i = 0; i < bytes.length; i++) list[i] = Buffer.allocUnsafeSlow(bytes[i]!).buffer as ArrayBuffer;
  return list;
}

/** One worker thread with its interpreters; every call is a request/response over a message port. */
export class TfliteWorker {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  /** [0]: bumped on every message sent; [1]: 1 while the worker is (about to be) blocked in `Atomics.wait`. */
  readonly #ctrl = new Int32Array(new SharedArrayBuffer(8));
  readonly #pending = new Map<number, Pending>();
  /**
   * Runs sent and not yet answered, in send order (the worker answers them in that order): flat triples
   * `segment, callback, tag` — no object per request.
   */
  #runs: unknown[] = [];
  #runsHead = 0;
  readonly #segments = new Map<string, Segment>();
  #next = 0;
  #wakeScheduled = false;
  /**
   * Runs collected while the worker sleeps, posted together at the next wake-up: flat `key, inputs, outputs`
   * triples (null: none waiting). While it is not null every run goes here, so runs stay in order.
   */
  #outbox: unknown[] | null = null;
  #outboxTransfer: ArrayBuffer[] = [];
  #dead: Error | null = null;
  #exited: Promise<void>;
  /** Sequence number of this worker (for traces). */
  readonly id: number;
  /** Called once when the worker dies unexpectedly. */
  onDeath: ((error: Error) => void) | null = null;

  /**
   * @param id sequence number (for traces)
   * @param spinUs µs the worker spins for its next request after finishing one, before it sleeps in
   *   `Atomics.wait` (0: sleeps at once). Saves the wake-up of a sleeping thread (and vCPU) when requests come
   *   back to back; costs up to `spinUs` of CPU per request when they do not.
   */
  constructor(id: number, spinUs = 0) {
    this.id = id;
    edgetpuUrl ??= import.meta.resolve('@swapless/edgetpu');
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { edgetpuUrl, port: channel.port2, ctrl: this.#ctrl.buffer, spinUs },
      transferList: [channel.port2],
    });
    this.#port.on('message', (msg: Reply | RunReply | RunReplies) => {
      if (!Array.isArray(msg)) this.#reply(msg);
      else if (msg[0] !== -1) this.#runReply(msg as RunReply);
      else for (const r of (msg as RunReplies)[1]) this.#runReply(r);
    });
    this.#worker.on('error', (error) => this.#die(error));
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#die(new Error(`worker ${id} exited with code ${code}`));
        resolve();
      });
    });
  }

  #reply(msg: Reply): void {
    const p = this.#pending.get(msg.id);
    if (p === undefined) return;
    this.#pending.delete(msg.id);
    if (msg.ok) p.resolve(msg as unknown as Record<string, unknown>);
    else p.reject(toError(msg.error as { message: string }));
  }

  #runReply(msg: RunReply): void {
    const runs = this.#runs;
    const h = this.#runsHead;
    if (h >= runs.length) return;
    const seg = runs[h] as Segment;
    const done = runs[h + 1] as RunCallback<unknown>;
    const tag = runs[h + 2];
    runs[h] = runs[h + 1] = runs[h + 2] = undefined;
    if (h + 3 === runs.length) {
      runs.length = 0;
      this.#runsHead = 0;
    } else this.#runsHead = h + 3;
    if (msg.length === 1) {
      done(tag, toError(msg[0]), null, 0, 0);
      return;
    }
    seg.spareIn.push(msg[2]);
    const o = msg[3];
    const outputs = new Array<TensorArray>(o.length);
    for (let i = 0; i < o.length; i++) outputs[i] = new seg.outCtors[i]!(o[i]!);
    const origin = performance.timeOrigin;
    done(tag, null, outputs, msg[0] - origin, msg[1] - origin);
  }

  #fire(error: Error): void {
    this.#outbox = null;
    this.#outboxTransfer = [];
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    const runs = this.#runs.slice(this.#runsHead);
    this.#runs = [];
    this.#runsHead = 0;
    for (const p of pending) p.reject(error);
    for (let i = 0; i < runs.length; i += 3) {
      (runs[i + 1] as RunCallback<unknown>)(runs[i + 2], error, null, 0, 0);
    }
  }

  #die(error: Error): void {
    if (this.#dead !== null) return;
    this.#dead = error;
    this.#port.close();
    this.#fire(error);
    this.onDeath?.(error);
  }

  /** True once the worker has exited or crashed. */
  get dead(): boolean {
    return this.#dead !== null;
  }

  #send(msg: unknown, transfer?: ArrayBuffer[]): void {
    this.#flushOutbox();
    this.#post(msg, transfer);
    // A worker that is busy drains its port before it sleeps again: no futex wake needed.
    if (Atomics.load(this.#ctrl, 1) !== 0) Atomics.notify(this.#ctrl, 0);
  }

  #post(msg: unknown, transfer?: ArrayBuffer[]): void {
    this.#port.postMessage(msg, transfer);
    Atomics.add(this.#ctrl, 0, 1);
  }

  #scheduleWake(): void {
    if (this.#wakeScheduled) return;
    this.#wakeScheduled = true;
    setImmediate(this.#wake);
  }

  /**
   * The end of the event loop's round after a run found the worker asleep: posts the runs collected meanwhile
   * as one message and wakes the worker once. A burst of requests (many HTTP requests parsed in one round) costs
   * one message and one futex wake — a cross-core wake-up, tens of µs of the main thread's time on a VM — instead
   * of one each.
   */
  readonly #wake = (): void => {
    this.#wakeScheduled = false;
    this.#flushOutbox();
    if (Atomics.load(this.#ctrl, 1) !== 0) Atomics.notify(this.#ctrl, 0);
  };

  /** Posts the collected runs (one message); a run whose buffers cannot be posted fails alone. */
  #flushOutbox(): void {
    const box = this.#outbox;
    if (box === null) return;
    const transfer = this.#outboxTransfer;
    this.#outbox = null;
    this.#outboxTransfer = [];
    if (this.#dead !== null) return;
    try {
      this.#post([2, box], transfer);
      return;
    } catch {
      // Nothing was transferred: post them one by one below, so only the run at fault fails.
    }
    // The collected runs are the last ones registered (runs go to the outbox while it is not null).
    const count = box.length / 3;
    const first = this.#runs.length - 3 * count;
    const failed: number[] = [];
    for (let j = 0; j < count; j++) {
      const ins = box[3 * j + 1] as ArrayBuffer[];
      const outs = box[3 * j + 2] as ArrayBuffer[];
      try {
        this.#post([0, box[3 * j], ins, outs], ins.concat(outs));
      } catch (error) {
        failed.push(j);
        const at = first + 3 * j;
        const seg = this.#runs[at] as Segment;
        const done = this.#runs[at + 1] as RunCallback<unknown>;
        const tag = this.#runs[at + 2];
        seg.spareIn.push(ins);
        queueMicrotask(() => done(tag, error as Error, null, 0, 0));
      }
    }
    for (let k = failed.length - 1; k >= 0; k--) this.#runs.splice(first + 3 * failed[k]!, 3);
  }

  #call(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      msg.id = id;
      this.#send(msg);
    });
  }

  /** Creates an interpreter for `bytes` (or a model prepared once for many workers) under `key`. */
  async load(key: string, bytes: Uint8Array | PreparedModel, options: LoadOptions): Promise<SegmentInfo> {
    const reply = await this.#call({ op: 'load', key, bytes, options });
    const info = reply.info as SegmentInfo;
    const ctors = (list: readonly TensorInfo[]) => list.map((t) => CTORS[t.arrayType ?? ''] ?? Uint8Array);
    const outBytes = info.outputs.map((t) => t.byteSize);
    this.#segments.set(key, {
      inCtors: ctors(info.inputs) as TypedArrayCtor[],
      inBytes: info.inputs.map((t) => t.byteSize),
      outCtors: ctors(info.outputs) as TypedArrayCtor[],
      outBytes,
      spareIn: [],
      spareOut: [allocateOutputs(outBytes)],
    });
    return info;
  }

  /**
   * Runs the interpreter under `key` on `inputs` (copied once into reused staging buffers; the caller keeps its
   * arrays) and calls `done(tag, …)` with freshly owned outputs. Runs sent to one worker execute in order.
   */
  run<T>(
    key: string,
    inputs: readonly TensorArray[],
    tag: T,
    done: RunCallback<T>,
    reuse?: readonly (ArrayBuffer | undefined)[],
  ): void {
    const seg = this.#segments.get(key);
    let error: Error | null = this.#dead;
    if (error === null && seg === undefined) error = new Error(`no segment loaded under key ${key}`);
    if (error === null && inputs.length !== seg!.inBytes.length) {
      error = new InvalidArgumentError(
        expected(`${seg!.inBytes.length} input tensors`, `the inputs of segment ${key}`, inputs.length),
      );
    }
    if (error !== null) {
      const e = error;
      queueMicrotask(() => done(tag, e, null, 0, 0));
      return;
    }
    const s = seg!;
    const staged = s.spareIn.pop() ?? allocate(s.inBytes);
    for (let i = 0; i < inputs.length; i++) {
      const a = inputs[i]!;
      if (a.constructor !== s.inCtors[i] || a.byteLength !== s.inBytes[i]) {
        s.spareIn.push(staged);
        const e = new InvalidArgumentError(
          expected(`a ${s.inCtors[i]!.name} of ${s.inBytes[i]} bytes`, `input ${i} of segment ${key}`, a),
        );
        queueMicrotask(() => done(tag, e, null, 0, 0));
        return;
      }
      new Uint8Array(staged[i]!).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
    let outs: ArrayBuffer[];
    if (reuse === undefined) outs = s.spareOut.pop() ?? allocateOutputs(s.outBytes);
    else {
      // Opt-in reuse: the caller's buffers where they fit (detached ones have byteLength 0), fresh ones elsewhere.
      outs = new Array<ArrayBuffer>(s.outBytes.length);
      for (let i = 0; i < outs.length; i++) {
        const b = reuse[i];
        outs[i] =
          b !== undefined && b.byteLength === s.outBytes[i] && outs.indexOf(b) === -1
            ? b
            : (Buffer.allocUnsafeSlow(s.outBytes[i]!).buffer as ArrayBuffer);
      }
    }
    if (this.#outbox !== null || Atomics.load(this.#ctrl, 1) !== 0) {
      // The worker sleeps (or runs already wait to go): collect; one message and one wake-up at the round's end.
      this.#outbox ??= [];
      this.#outbox.push(key, staged, outs);
      for (let i = 0; i < staged.length; i++) this.#outboxTransfer.push(staged[i]!);
      for (let i = 0; i < outs.length; i++) this.#outboxTransfer.push(outs[i]!);
      this.#scheduleWake();
    } else {
      try {
        this.#post([0, key, staged, outs], staged.concat(outs));
      } catch (e) {
        // Nothing was transferred (e.g. a reused buffer that cannot be transferred).
        s.spareIn.push(staged);
        queueMicrotask(() => done(tag, e as Error, null, 0, 0));
        return;
      }
      // Went to sleep in the meantime: it needs waking (at the round's end, with whatever else comes).
      if (Atomics.load(this.#ctrl, 1) !== 0) this.#scheduleWake();
    }
    this.#runs.push(s, done, tag);
    // The next request's output buffers, allocated while this one computes.
    if (s.spareOut.length === 0) s.spareOut.push(allocateOutputs(s.outBytes));
  }

  /** Promise form of {@link run}. */
  runAsync(key: string, inputs: readonly TensorArray[]): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.run(key, inputs, null, (_tag, error, outputs, startMs, endMs) => {
        if (error !== null) reject(error);
        else resolve({ outputs: outputs!, startMs, endMs });
      });
    });
  }

  /** Disposes the interpreter under `key` (no-op if absent). */
  async unload(key: string): Promise<void> {
    this.#segments.delete(key);
    if (this.#dead !== null) return;
    await this.#call({ op: 'unload', key });
  }

  /** Terminates the thread (pending calls reject). */
  async terminate(): Promise<void> {
    if (this.#dead === null) {
      this.#dead = new Error(`worker ${this.id} was terminated`);
      this.#port.close();
      this.#fire(this.#dead);
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
  readonly #spinUs: number;
  #seq = 0;

  /** Keeps up to `maxIdle` idle workers; every worker spins `spinUs` before sleeping (see {@link TfliteWorker}). */
  constructor(maxIdle: number, spinUs = 0) {
    this.#maxIdle = maxIdle;
    this.#spinUs = spinUs;
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
    const fresh = new TfliteWorker(this.#seq++, this.#spinUs);
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
