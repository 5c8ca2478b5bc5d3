/**
 * Vetting: before a process loads a new or changed model into itself, a short-lived child process loads it with
 * the same interpreter options, invokes it once on seeded inputs, reads the outputs and disposes it. TFLite 2.9
 * trusts much of a model file, and a damaged one can kill the process that loads it (SIGSEGV, SIGABRT, SIGFPE)
 * in interpreter creation, invoke or dispose; no verifier can rule that out, so the first load happens where a
 * crash costs nothing. What the child ends with decides:
 *
 * - it finished → accepted;
 * - it was killed by a signal, hung past the timeout, went over the memory limit or exited abnormally →
 *   `ModelRejectedError` (`details.reason`: `signal SIGSEGV`, `timeout after 30000 ms`, …);
 * - it threw a SwapLess error (`InvalidModelError`, `TfLiteRuntimeError`, …) → that same error, re-created here:
 *   the model is not dangerous, it is simply bad, and the caller would have had that error in-process too.
 *
 * Verdicts (accepted, rejected) are cached on disk by content (SHA-256 of the bytes, the options that matter, the
 * TFLite library and this package's version and code), so a model is vetted once per machine. How to use it: docs/native.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  cacheDir,
  DelegateUnavailableError,
  ErrorCodes,
  expected,
  InterpreterBusyError,
  InterpreterDisposedError,
  InvalidArgumentError,
  InvalidConfigError,
  InvalidCutError,
  InvalidModelError,
  ModelRejectedError,
  modelBytes,
  NativeLoadError,
  SwapLessError,
  type SwapLessErrorOptions,
  SwapLessIoError,
  TfLiteRuntimeError,
  UnsupportedModelError,
  writeFileAtomic,
} from '@swapless/core';
import { resolveEdgeTpuLibrary } from './loader.js';
import { getRuntime, type InterpreterOptions } from './runtime.js';
import type { VetJob, VetMessage, VetStage, VetTensor } from './vet-protocol.js';

export type { VetTensor } from './vet-protocol.js';

/** Default time a vetting process may take (load + one invoke + dispose), ms. */
export const DEFAULT_VET_TIMEOUT_MS = 30_000;
/** Default memory a vetting process may use (resident set; enforced on Linux): 4 GiB, at most half the RAM. */
export const DEFAULT_VET_MEMORY_LIMIT_BYTES = Math.min(4 * 1024 ** 3, Math.floor(totalmem() / 2));
/** Sub-directory of the SwapLess cache (`cacheDir('vetting')`) that holds the verdicts. */
export const VET_CACHE_SUBDIR = 'vetting';

/** Options of {@link vetModel} / {@link Vetter.vet}. */
export interface VetOptions {
  /**
   * The interpreter options the caller will load the model with (threads, xnnpack, delegate, …), or several sets
   * tried in turn in the same child (e.g. with and without XNNPACK when the caller uses both). Default `{}`:
   * `createInterpreter`'s defaults.
   */
  interpreter?: InterpreterOptions | readonly InterpreterOptions[];
  /** Time the vetting process may take, ms (default {@link DEFAULT_VET_TIMEOUT_MS}); then it is killed. */
  timeoutMs?: number;
  /** Resident memory the vetting process may use, bytes (default {@link DEFAULT_VET_MEMORY_LIMIT_BYTES}; Linux). */
  memoryLimitBytes?: number;
  /** Read and write the verdict cache (default true). `false` vets again and leaves the cache alone. */
  cache?: boolean;
  /** Seed of the input values (default 1). */
  seed?: number;
  /** How messages name the model (default: its path, else "the model"). */
  label?: string;
}

/** An accepted model. */
export interface VetResult {
  /** The cache key: SHA-256 (hex) of the bytes, the options that matter, the TFLite library and this package. */
  readonly key: string;
  /** True when the verdict came from the cache (no process was started). */
  readonly cached: boolean;
  /** Wall time of this call, ms (measured). */
  readonly ms: number;
  /** Time the vetting process spent loading, invoking and disposing, ms (measured when the verdict was made). */
  readonly childMs: number;
  /** Interpreter configurations the model was run with. */
  readonly configurations: number;
  /** The model's inputs and outputs as the vetting process saw them. */
  readonly inputs: readonly VetTensor[];
  readonly outputs: readonly VetTensor[];
}

/** Counters of a {@link Vetter}. */
export interface VetterStats {
  /** Vetting processes started. */
  spawned: number;
  /** Verdicts served from the cache. */
  cacheHits: number;
  accepted: number;
  rejected: number;
  /** Typed errors passed on (the model is bad, not dangerous). */
  errors: number;
  /** Vetting processes running now, and calls waiting for one. */
  running: number;
  queued: number;
}

/** Options of a {@link Vetter}. */
export interface VetterOptions {
  /** Vetting processes at a time (default: one per core but one, at least 1, at most 4). */
  concurrency?: number;
  /** Directory of the verdict cache (default `cacheDir('vetting')`, read when each vet starts). */
  cacheDir?: string;
  /**
   * Test hook: the program and arguments to start instead of the vetting process (`[process.execPath, '-e', …]`
   * to simulate a hang or a crash). The job (JSON) is appended as the last argument and the model is on stdin.
   */
  command?: readonly string[];
}

/** A verdict; accepted and rejected ones are stored per cache key, clean failures only passed on. */
type Stored =
  | {
      v: 1;
      verdict: 'accepted';
      childMs: number;
      configurations: number;
      inputs: VetTensor[];
      outputs: VetTensor[];
    }
  | { v: 1; verdict: 'rejected'; message: string; details: Record<string, unknown> }
  | {
      v: 1;
      verdict: 'error';
      error: { name: string; code: string; message: string; details: Record<string, unknown> };
    };

const STAGE_WORDS: Record<VetStage, string> = {
  create: 'while creating the interpreter',
  'set-input': 'while setting the inputs',
  invoke: 'during invoke',
  'get-output': 'while reading the outputs',
  dispose: 'in dispose()',
};

/** The part of a child's stderr worth keeping (TFLite's INFO banner is noise). */
const STDERR_KEEP = 4096;
const MEMORY_POLL_MS = 100;
const MIB = 1024 * 1024;
/**
 * How much longer than the timeout the child's own watchdog lets it live: normally this process kills it at the
 * timeout; the watchdog is for when this process is gone, or too busy to (its event loop blocked).
 */
const WATCHDOG_GRACE_MS = 1000;

const PACKAGE_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
/** `dist/vet-child.js`: the same path from `src/` (tests) and from `dist/`. */
const CHILD_SCRIPT = fileURLToPath(new URL('../dist/vet-child.js', import.meta.url));
let childDigest: string | undefined;

/** Vetting processes running now, of every Vetter: killed when this process exits (one hook for all). */
const liveChildren = new Set<ChildProcess>();
let exitHook = false;

/**
 * SHA-256 of the vetting program (it bundles this package's interpreter code), so a verdict made by other code —
 * a rebuilt package of the same version — is not reused. Empty when it cannot be read (the spawn then says why).
 */
function childScriptDigest(): string {
  if (childDigest === undefined) {
    try {
      childDigest = createHash('sha256').update(readFileSync(CHILD_SCRIPT)).digest('hex');
    } catch {
      return '';
    }
  }
  return childDigest;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** JSON with sorted keys, so equal options give equal keys. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function positive(value: unknown, what: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidArgumentError(expected(allowZero ? 'a number ≥ 0' : 'a number > 0', what, value));
  }
  return value;
}

/** Re-creates a SwapLess error sent by the child as the same class (code and message preserved). */
function revive(e: { name: string; code: string; message: string; details: Record<string, unknown> }): Error {
  const options: SwapLessErrorOptions = { details: e.details ?? {} };
  const classes: Record<string, new (message: string, options?: SwapLessErrorOptions) => SwapLessError> = {
    [ErrorCodes.INVALID_ARGUMENT]: InvalidArgumentError,
    [ErrorCodes.INVALID_MODEL]: InvalidModelError,
    [ErrorCodes.UNSUPPORTED_MODEL]: UnsupportedModelError,
    [ErrorCodes.INVALID_CUT]: InvalidCutError,
    [ErrorCodes.DELEGATE_UNAVAILABLE]: DelegateUnavailableError,
    [ErrorCodes.TFLITE_RUNTIME]: TfLiteRuntimeError,
    [ErrorCodes.INTERPRETER_BUSY]: InterpreterBusyError,
    [ErrorCodes.INTERPRETER_DISPOSED]: InterpreterDisposedError,
    [ErrorCodes.IO]: SwapLessIoError,
    [ErrorCodes.MODEL_REJECTED]: ModelRejectedError,
  };
  const Class = classes[e.code];
  if (Class !== undefined) return new Class(e.message, options);
  if (e.code === ErrorCodes.NATIVE_LOAD) {
    const causes = Array.isArray(e.details?.causes) ? (e.details.causes as unknown[]).map(String) : [];
    return new NativeLoadError(e.message, causes, options);
  }
  if (e.code === ErrorCodes.INVALID_CONFIG) {
    const problems = Array.isArray(e.details?.problems) ? (e.details.problems as unknown[]).map(String) : [];
    return new InvalidConfigError(e.message, problems, options);
  }
  const error = new SwapLessError(e.code as SwapLessError['code'], e.message, options);
  error.name = e.name;
  return error;
}

/** The last line of a child's stderr that says something (for messages). */
function lastWords(stderr: string): string | null {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('INFO:'));
  const last = lines.at(-1);
  if (last === undefined) return null;
  return last.length > 200 ? `${last.slice(0, 197)}...` : last;
}

/** Resident set of a process on Linux, bytes; null elsewhere or when it is gone. */
async function residentBytes(pid: number): Promise<number | null> {
  if (process.platform !== 'linux') return null;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

/** How one vetting process ended. */
interface Ending {
  messages: VetMessage[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
  overMemory: number | null;
  spawnError: Error | null;
}

/**
 * Runs vetting processes with a bound on how many run at once, a verdict cache, and counters. Most callers use
 * {@link vetModel} (one shared vetter); create your own for another concurrency, cache directory or, in tests,
 * a simulated child.
 */
export class Vetter {
  readonly #concurrency: number;
  readonly #cacheDir: string | undefined;
  readonly #command: readonly string[] | undefined;
  readonly #waiting: (() => void)[] = [];
  readonly #inFlight = new Map<string, Promise<Stored>>();
  #running = 0;
  readonly #stats = { spawned: 0, cacheHits: 0, accepted: 0, rejected: 0, errors: 0 };

  constructor(options: VetterOptions = {}) {
    if (!isPlainObject(options as unknown))
      throw new InvalidArgumentError(expected('an options object', 'Vetter', options));
    const concurrency = options.concurrency ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new InvalidArgumentError(expected('an integer ≥ 1', 'Vetter options.concurrency', concurrency));
    }
    if (options.cacheDir !== undefined && (typeof options.cacheDir !== 'string' || options.cacheDir === '')) {
      throw new InvalidArgumentError(
        expected('a directory path', 'Vetter options.cacheDir', options.cacheDir),
      );
    }
    const command = options.command;
    if (
      command !== undefined &&
      (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string'))
    ) {
      throw new InvalidArgumentError(
        expected('a non-empty array of strings', 'Vetter options.command', command),
      );
    }
    this.#concurrency = concurrency;
    this.#cacheDir = options.cacheDir;
    this.#command = command === undefined ? undefined : [...command];
  }

  /** Counters since this vetter was created. */
  stats(): VetterStats {
    return { ...this.#stats, running: this.#running, queued: this.#waiting.length };
  }

  /**
   * Vets a model (bytes, or a .tflite path): resolves when a child process loaded it with the given interpreter
   * options, invoked it once on seeded inputs, read the outputs and disposed it cleanly.
   *
   * @throws ModelRejectedError when the child was killed by a signal, hung, went over the memory limit or exited
   *   abnormally (`details.reason` says which; `details.stage` where: `create`, `invoke`, `dispose`, …;
   *   `details.cacheable` is false when the verdict depends on the limits or the machine, not the model alone).
   * @throws the child's own SwapLess error (`InvalidModelError`, `TfLiteRuntimeError`, `DelegateUnavailableError`,
   *   …), re-created with its code and message, when the model failed cleanly.
   * @throws InvalidArgumentError for bad options; SwapLessIoError when the file cannot be read or no process
   *   can be started; NativeLoadError when the vetting process cannot load the runtime.
   */
  async vet(model: Uint8Array | string, options: VetOptions = {}): Promise<VetResult> {
    const t0 = performance.now();
    if (!isPlainObject(options as unknown)) {
      throw new InvalidArgumentError(expected('an options object', 'vet options', options));
    }
    const configurations = this.#configurations(options.interpreter);
    const timeoutMs = positive(options.timeoutMs ?? DEFAULT_VET_TIMEOUT_MS, 'options.timeoutMs');
    const memoryLimitBytes = positive(
      options.memoryLimitBytes ?? DEFAULT_VET_MEMORY_LIMIT_BYTES,
      'options.memoryLimitBytes',
    );
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new InvalidArgumentError(expected('an integer in [0, 2^32)', 'options.seed', seed));
    }
    if (options.cache !== undefined && typeof options.cache !== 'boolean') {
      throw new InvalidArgumentError(expected('a boolean', 'options.cache', options.cache));
    }
    const useCache = options.cache ?? true;
    const label = options.label ?? (typeof model === 'string' ? model : 'the model');
    const bytes = await modelBytes(model);
    const key = this.#key(bytes, configurations, seed);

    let stored: Stored | null = useCache ? await this.#readCache(key) : null;
    const cached = stored !== null;
    if (stored !== null) {
      this.#stats.cacheHits++;
    } else {
      // Two callers vetting the same thing at once share one child.
      let pending = useCache ? this.#inFlight.get(key) : undefined;
      if (pending === undefined) {
        pending = this.#limited(async () => {
          const job: VetJob = {
            configurations,
            seed,
            deadlineMs: timeoutMs + WATCHDOG_GRACE_MS,
            parentPid: process.pid,
          };
          const s = await this.#decide(bytes, job, { timeoutMs, memoryLimitBytes, key });
          // Written before anyone hears the verdict, so the next call finds it.
          if (useCache) await this.#writeCache(key, s);
          return s;
        });
        if (useCache) {
          const p = pending;
          this.#inFlight.set(key, p);
          void p
            .catch(() => undefined)
            .finally(() => {
              if (this.#inFlight.get(key) === p) this.#inFlight.delete(key);
            });
        }
      }
      stored = await pending;
    }
    return this.#outcome(stored, { key, cached, label, ms: performance.now() - t0 });
  }

  #outcome(s: Stored, at: { key: string; cached: boolean; label: string; ms: number }): VetResult {
    if (s.verdict === 'accepted') {
      this.#stats.accepted++;
      return Object.freeze({
        key: at.key,
        cached: at.cached,
        ms: at.ms,
        childMs: s.childMs,
        configurations: s.configurations,
        inputs: s.inputs,
        outputs: s.outputs,
      });
    }
    if (s.verdict === 'error') {
      this.#stats.errors++;
      throw revive(s.error);
    }
    this.#stats.rejected++;
    // `details.cacheable` stays: false means the verdict depends on the limits or the machine's load (a timeout,
    // a memory kill), so a caller that keeps verdicts of its own should not keep this one either.
    throw new ModelRejectedError(s.message.replace('{label}', at.label), {
      details: { cacheable: true, ...s.details, model: at.label, key: at.key, cached: at.cached },
    });
  }

  #configurations(interpreter: VetOptions['interpreter']): InterpreterOptions[] {
    const list =
      interpreter === undefined ? [{}] : Array.isArray(interpreter) ? [...interpreter] : [interpreter];
    if (list.length === 0) {
      throw new InvalidArgumentError(
        expected('at least one set of interpreter options', 'options.interpreter', list),
      );
    }
    for (const [i, o] of list.entries()) {
      if (!isPlainObject(o)) {
        throw new InvalidArgumentError(
          expected('an InterpreterOptions object', `options.interpreter[${i}]`, o),
        );
      }
    }
    return list as InterpreterOptions[];
  }

  /**
   * Content key: the bytes, the options with their defaults filled in, the TFLite library, this package (version
   * and the vetting program's own hash).
   */
  #key(bytes: Uint8Array, configurations: InterpreterOptions[], seed: number): string {
    const info = getRuntime().info();
    const options = configurations.map((o) => {
      const delegate = o.delegate ?? 'cpu';
      const filled: Record<string, unknown> = { threads: 1, xnnpack: true, ...o, delegate };
      // The Edge TPU library is part of what runs (it may come from the environment).
      if (delegate !== 'cpu') filled.edgetpuLibrary = resolveEdgeTpuLibrary(o.edgetpu?.library);
      return filled;
    });
    const meta = canonical({
      format: 'swapless-vet/1',
      package: PACKAGE_VERSION,
      program: childScriptDigest(),
      tflite: { version: info.tfliteVersion, library: info.tfliteLibrary },
      options,
      seed,
    });
    return createHash('sha256').update(meta).update('\0').update(bytes).digest('hex');
  }

  #cachePath(key: string): string {
    return join(this.#cacheDir ?? cacheDir(VET_CACHE_SUBDIR), `${key}.json`);
  }

  /** A verdict from the cache, or null (absent, unreadable or corrupt: all mean "vet again"). */
  async #readCache(key: string): Promise<Stored | null> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.#cachePath(key), 'utf8'));
    } catch {
      return null;
    }
    if (!isPlainObject(parsed) || parsed.v !== 1) return null;
    switch (parsed.verdict) {
      case 'accepted':
        return Array.isArray(parsed.inputs) &&
          Array.isArray(parsed.outputs) &&
          typeof parsed.childMs === 'number' &&
          typeof parsed.configurations === 'number'
          ? (parsed as Stored)
          : null;
      case 'rejected':
        return typeof parsed.message === 'string' && isPlainObject(parsed.details)
          ? (parsed as Stored)
          : null;
      default:
        return null;
    }
  }

  async #writeCache(key: string, s: Stored): Promise<void> {
    // A clean failure is passed on, not stored: it may come from this process's setup (a device, a library) or
    // from verification that a newer build does differently.
    if (s.verdict === 'error') return;
    // Timeouts and memory kills depend on the limits and the machine's load, not on the model alone.
    if (s.verdict === 'rejected' && s.details.cacheable === false) return;
    // A cache that cannot be written only costs a vet next time.
    await writeFileAtomic(this.#cachePath(key), JSON.stringify(s)).catch(() => undefined);
  }

  async #limited<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next caller, so #running stays exact.
      if (next !== undefined) next();
      else this.#running--;
    }
  }

  /** Starts one vetting process and turns how it ended into a verdict. */
  async #decide(
    bytes: Uint8Array,
    job: VetJob,
    limits: { timeoutMs: number; memoryLimitBytes: number; key: string },
  ): Promise<Stored> {
    const end = await this.#run(bytes, job, limits);
    if (end.spawnError !== null) {
      throw new SwapLessIoError(`Cannot start the vetting process: ${end.spawnError.message}`, {
        cause: end.spawnError,
      });
    }
    const done = end.messages.find((m) => m.kind === 'done');
    const failure = end.messages.find((m) => m.kind === 'error');
    const stage = end.messages.findLast((m) => m.kind === 'stage');
    const words = lastWords(end.stderr);
    const where = stage === undefined ? '' : ` ${STAGE_WORDS[stage.stage]}`;
    const configuration =
      stage === undefined || job.configurations.length === 1
        ? ''
        : ` with interpreter options ${canonical(job.configurations[stage.configuration])}`;
    const reject = (reason: string, cacheable: boolean): Stored => ({
      v: 1,
      verdict: 'rejected',
      message:
        `Rejected {label}: loading and running it once in a separate vetting process ended with ${reason}` +
        `${where}${configuration}${words === null ? '' : ` (it printed: ${words})`}; it was not loaded here`,
      details: {
        reason,
        ...(stage !== undefined ? { stage: stage.stage, configuration: stage.configuration } : {}),
        signal: end.signal,
        exitCode: end.code,
        stderr: end.stderr.slice(-STDERR_KEEP),
        cacheable,
      },
    });
    // The child's watchdog says so before it kills the child at its deadline (this process was too busy to).
    if (end.timedOut || end.messages.some((m) => m.kind === 'deadline')) {
      return reject(`timeout after ${limits.timeoutMs} ms`, false);
    }
    if (end.overMemory !== null) {
      return reject(
        `memory limit exceeded (${Math.round(end.overMemory / MIB)} MiB > ${Math.round(limits.memoryLimitBytes / MIB)} MiB)`,
        false,
      );
    }
    const oom = /out of memory|bad_alloc|Cannot allocate memory/i.test(end.stderr);
    // TFLite never sends SIGKILL to itself: it came from outside (the kernel's OOM killer, an operator), so it says
    // nothing about the model alone.
    if (end.signal !== null) {
      return reject(
        oom ? `out of memory (signal ${end.signal})` : `signal ${end.signal}`,
        !oom && end.signal !== 'SIGKILL',
      );
    }
    if (end.code === 0 && done !== undefined && done.kind === 'done') {
      return {
        v: 1,
        verdict: 'accepted',
        childMs: done.ms,
        configurations: job.configurations.length,
        inputs: done.shapes.inputs,
        outputs: done.shapes.outputs,
      };
    }
    if (failure !== undefined && failure.kind === 'error' && failure.typed) {
      if (failure.error.code === ErrorCodes.NATIVE_LOAD || stage === undefined) {
        // Nothing of the model ran (the runtime did not load, or the options were refused): not a verdict.
        throw revive(failure.error);
      }
      return { v: 1, verdict: 'error', error: failure.error };
    }
    if (end.messages.length === 0 && !oom) {
      // The process died before it looked at the model: a broken installation, not a bad model.
      throw new NativeLoadError(
        `Cannot run the vetting process (${CHILD_SCRIPT}): it exited with code ${end.code}${words === null ? '' : `: ${words}`}`,
        [end.stderr.slice(-STDERR_KEEP)],
        { details: { fix: 'rebuild @swapless/edgetpu (npm run build -w @swapless/edgetpu)' } },
      );
    }
    if (failure !== undefined && failure.kind === 'error') {
      return reject(`exit code ${end.code} (${failure.error.name}: ${failure.error.message})`, true);
    }
    return reject(oom ? `out of memory (exit code ${end.code})` : `exit code ${end.code}`, !oom);
  }

  #run(
    bytes: Uint8Array,
    job: VetJob,
    limits: { timeoutMs: number; memoryLimitBytes: number },
  ): Promise<Ending> {
    const [file, ...args] = this.#command ?? [process.execPath, CHILD_SCRIPT];
    // Only what the runtime needs: no inherited NODE_OPTIONS (loaders, inspectors, preloads of the caller).
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const end: Ending = {
      messages: [],
      code: null,
      signal: null,
      stderr: '',
      timedOut: false,
      overMemory: null,
      spawnError: null,
    };
    return new Promise<Ending>((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(file!, [...args, JSON.stringify(job)], {
          stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
          env,
          windowsHide: true,
        });
      } catch (error) {
        end.spawnError = error as Error;
        resolve(end);
        return;
      }
      this.#stats.spawned++;
      this.#track(child);
      let out = '';
      const results = child.stdio[3] as Readable;
      results.setEncoding('utf8');
      results.on('data', (d: string) => {
        out += d;
      });
      results.on('error', () => undefined);
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => {
        end.stderr = (end.stderr + d).slice(-STDERR_KEEP * 2);
      });
      // A child that dies before reading all of its stdin makes the write fail with EPIPE: that is its verdict.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(bytes);
      const timer = setTimeout(() => {
        end.timedOut = true;
        child.kill('SIGKILL');
      }, limits.timeoutMs);
      const poll = setInterval(() => {
        if (child.pid === undefined) return;
        void residentBytes(child.pid).then((rss) => {
          if (
            rss !== null &&
            rss > limits.memoryLimitBytes &&
            end.overMemory === null &&
            child.exitCode === null
          ) {
            end.overMemory = rss;
            child.kill('SIGKILL');
          }
        });
      }, MEMORY_POLL_MS);
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(poll);
        liveChildren.delete(child);
        for (const line of out.split('\n')) {
          if (line === '') continue;
          try {
            end.messages.push(JSON.parse(line) as VetMessage);
          } catch {
            // A torn last line (the child died mid-write) says nothing.
          }
        }
        resolve(end);
      };
      child.once('error', (error) => {
        if (child.pid === undefined) end.spawnError = error;
        finish();
      });
      child.once('close', (code, signal) => {
        end.code = code;
        end.signal = signal;
        finish();
      });
    });
  }

  /**
   * Children die with this process when it exits normally: a vet in progress must not outlive it by up to the
   * timeout. A process killed by a signal runs no exit handler: then each child's own watchdog ends it.
   */
  #track(child: ChildProcess): void {
    liveChildren.add(child);
    if (exitHook) return;
    exitHook = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

let shared: Vetter | undefined;

/** The vetter {@link vetModel} uses (created on first use with the default options). */
export function defaultVetter(): Vetter {
  shared ??= new Vetter();
  return shared;
}

/**
 * Vets a model before this process loads it: a short-lived child process loads it with `options.interpreter`,
 * invokes it once on seeded inputs, reads the outputs and disposes it. Verdicts are cached by content hash under
 * `cacheDir('vetting')`; vetting processes run a few at a time (see {@link Vetter}).
 *
 * @throws ModelRejectedError (`SWAPLESS_MODEL_REJECTED`) when the model killed the child (`details.reason`
 *   `signal SIGSEGV`, …), hung, used too much memory or made it exit abnormally.
 * @throws the child's SwapLess error, same class, code and message, when the model failed cleanly
 *   (`InvalidModelError`, `TfLiteRuntimeError`, …).
 */
export function vetModel(model: Uint8Array | string, options?: VetOptions): Promise<VetResult> {
  return defaultVetter().vet(model, options);
}
