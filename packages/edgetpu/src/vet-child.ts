/**
 * The vetting process (entry point `dist/vet-child.js`, spawned by `vetModel` in vet.ts): reads a model from stdin,
 * then for each interpreter configuration of the job creates an interpreter, fills the inputs with seeded values,
 * invokes once, reads every output and disposes, exactly as the calling process would. It reports on fd 3, one
 * JSON line per message, *before* each risky step (so that a crash can be placed: creating, invoking, disposing)
 * and once at the end. A model that kills this process kills only this process. A watchdog thread (vet-watchdog.ts)
 * kills it past the job's deadline or as soon as its parent is gone, even while TFLite holds the main thread.
 *
 * It imports the interpreter code (runtime.js, which brings @swapless/core and @swapless/tflite: createInterpreter
 * verifies the model first), not this package's index or vet.js: it holds the one model and starts no process.
 */
import { writeSync } from 'node:fs';
import { isSwapLessError } from '@swapless/core';
import type { TensorArray, TensorInfo } from './interpreter.js';
import { getRuntime } from './runtime.js';
import type { VetJob, VetMessage, VetStage } from './vet-protocol.js';
import { startWatchdog } from './vet-watchdog.js';

const RESULT_FD = 3;

function say(message: VetMessage): void {
  writeSync(RESULT_FD, `${JSON.stringify(message)}\n`);
}

/** Seeded inputs in the ranges every model accepts (the CLI's `run` uses the same ones). */
function inputFor(info: TensorInfo, next: () => number): TensorArray | null {
  if (info.arrayType === null) return null;
  const Ctor = (globalThis as unknown as Record<string, new (n: number) => TensorArray>)[info.arrayType]!;
  const probe = new Ctor(0) as unknown as { BYTES_PER_ELEMENT: number };
  const out = new Ctor(info.byteSize / probe.BYTES_PER_ELEMENT);
  const a = out as unknown as { [i: number]: number | bigint; length: number };
  const big = info.arrayType === 'BigInt64Array' || info.arrayType === 'BigUint64Array';
  for (let i = 0; i < a.length; i++) {
    const u = next();
    let v: number;
    switch (info.arrayType) {
      case 'Float32Array':
      case 'Float64Array':
        v = u * 2 - 1;
        break;
      case 'Int8Array':
        v = Math.floor(u * 256) - 128;
        break;
      case 'Uint8Array':
        v = Math.floor(u * 256);
        break;
      case 'Uint16Array':
        // float16 travels as raw bits: below 0x3c00 are the halves in [0, 1).
        v = Math.floor(u * 0x3c00);
        break;
      default:
        // Other integers are often indices or lengths: keep them small.
        v = Math.floor(u * 10);
    }
    a[i] = big ? BigInt(v) : v;
  }
  return out;
}

/** A 32-bit LCG: the same inputs on every machine for a seed. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function errorOf(error: unknown): VetMessage & { kind: 'error' } {
  if (isSwapLessError(error)) {
    return {
      kind: 'error',
      typed: true,
      error: { name: error.name, code: error.code, message: error.message, details: error.details },
    };
  }
  const e = error as { name?: unknown; message?: unknown } | null;
  return {
    kind: 'error',
    typed: false,
    error: { name: String(e?.name ?? 'Error'), code: '', message: String(e?.message ?? error), details: {} },
  };
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as VetJob;
  startWatchdog({
    parentPid: job.parentPid ?? process.ppid,
    deadline: Date.now() + job.deadlineMs,
    resultFd: RESULT_FD,
  });
  const bytes = await readStdin();
  const stage = (s: VetStage, configuration: number) => say({ kind: 'stage', stage: s, configuration });
  let shapes: Extract<VetMessage, { kind: 'done' }>['shapes'] = { inputs: [], outputs: [] };
  const t0 = performance.now();
  for (const [c, options] of job.configurations.entries()) {
    stage('create', c);
    const it = getRuntime().createInterpreter(bytes, options);
    let failure: unknown = null;
    try {
      const next = lcg(job.seed);
      stage('set-input', c);
      for (const [i, info] of it.inputs.entries()) {
        const data = inputFor(info, next);
        if (data !== null) it.setInput(i, data);
      }
      stage('invoke', c);
      it.invoke();
      stage('get-output', c);
      for (let i = 0; i < it.outputs.length; i++) if (it.outputs[i]!.arrayType !== null) it.getOutput(i);
      const brief = (t: TensorInfo) => ({ name: t.name, type: t.type, shape: [...t.shape] });
      shapes = { inputs: it.inputs.map(brief), outputs: it.outputs.map(brief) };
    } catch (error) {
      failure = error;
    } finally {
      // Disposed before anything is reported: a crash in dispose() after a clean invoke error must count.
      stage('dispose', c);
      it.dispose();
    }
    if (failure !== null) throw failure;
  }
  say({ kind: 'done', ms: performance.now() - t0, shapes });
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (error: unknown) => {
    say(errorOf(error));
    process.exitCode = 1;
  },
);
