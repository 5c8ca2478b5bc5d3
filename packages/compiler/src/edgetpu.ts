/**
 * The real path: find `edgetpu_compiler`, ask its version, run it on one segment or a co-compiled set with a
 * timeout of our own, and turn what it printed into parsed per-model blocks, or a typed error.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';
import { expected, InvalidArgumentError, SwapLessIoError } from '@swapless/core';
import { CompilerFailedError, CompilerTimeoutError } from './errors.js';
import {
  type OperationRow,
  operationCounts,
  type ParsedCompilerOutput,
  type ParsedModelBlock,
  parseCompilerOutput,
  parseOperationLog,
} from './parse.js';
import { type ProcessResult, runProcess } from './process.js';

/** Environment variable naming the `edgetpu_compiler` executable (overrides the PATH search). */
export const COMPILER_ENV = 'SWAPLESS_EDGETPU_COMPILER';

/** Name of the executable searched on PATH. */
export const COMPILER_NAME = 'edgetpu_compiler';

/** Default process timeout: the compiler's own default `-t` (180 s) plus a margin for start-up and writing. */
export const DEFAULT_PROCESS_TIMEOUT_MS = 240_000;

/** Default value of `-t/--timeout_sec` (the compiler's own default; it needs compiler 16 or newer). */
export const DEFAULT_COMPILER_TIMEOUT_SEC = 180;

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Locates `edgetpu_compiler`: `compilerPath` if given, else `$SWAPLESS_EDGETPU_COMPILER`, else the first
 * executable `edgetpu_compiler` on PATH. Returns undefined when none is found on PATH.
 *
 * @throws InvalidArgumentError when an explicitly named compiler (option or env) is not an executable file.
 */
export async function findEdgeTpuCompiler(
  options: { compilerPath?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string | undefined> {
  const env = options.env ?? process.env;
  const explicit: [string, string] | undefined =
    options.compilerPath !== undefined
      ? [options.compilerPath, 'options.compilerPath']
      : env[COMPILER_ENV]
        ? [env[COMPILER_ENV], `$${COMPILER_ENV}`]
        : undefined;
  if (explicit !== undefined) {
    const [path, where] = explicit;
    const absolute = resolve(path);
    if (!(await isExecutable(absolute))) {
      throw new InvalidArgumentError(expected('the path of an executable edgetpu_compiler', where, path), {
        details: { path },
      });
    }
    return absolute;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, COMPILER_NAME);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const versionCache = new Map<string, Promise<string>>();

/**
 * The version string of a compiler (`edgetpu_compiler --version` → "16.0.384591198"). Memoised per path,
 * size and modification time, so a replaced binary is asked again.
 *
 * @throws CompilerFailedError when it does not print "Edge TPU Compiler version …".
 * @throws CompilerTimeoutError when it does not answer within `timeoutMs`.
 */
export async function edgeTpuCompilerVersion(compilerPath: string, timeoutMs = 30_000): Promise<string> {
  const info = await stat(compilerPath).catch((err: unknown) => {
    throw new SwapLessIoError(expected('a readable edgetpu_compiler', 'the version query', compilerPath), {
      cause: err,
      details: { path: compilerPath },
    });
  });
  const memo = `${compilerPath}\0${info.size}\0${info.mtimeMs}`;
  let pending = versionCache.get(memo);
  if (pending === undefined) {
    pending = (async () => {
      const result = await runProcess(compilerPath, ['--version'], { timeoutMs });
      checkRun(result, compilerPath, ['--version'], timeoutMs);
      const parsed = parseCompilerOutput(`${result.stdout}\n${result.stderr}`);
      if (parsed.version === undefined) {
        throw new CompilerFailedError(
          expected(
            '"Edge TPU Compiler version …" from --version',
            compilerPath,
            result.stdout.trim().slice(0, 60),
          ),
          'unparsable',
          result,
          { details: { compiler: compilerPath } },
        );
      }
      return parsed.version;
    })();
    versionCache.set(memo, pending);
    pending.catch(() => versionCache.delete(memo));
  }
  return pending;
}

/** Options of {@link runEdgeTpuCompiler}. */
export interface EdgeTpuRunOptions {
  /** The executable (see {@link findEdgeTpuCompiler}). */
  compilerPath: string;
  /** `-o/--out_dir`: where `<name>_edgetpu.tflite` and `<name>_edgetpu.log` go (relative to `cwd`). */
  outDir: string;
  /** Working directory of the run; relative inputs and `outDir` are resolved against it. Default `outDir`. */
  cwd?: string;
  /** Our process timeout, ms; the process group is killed when it elapses. Default 240 000. */
  timeoutMs?: number;
  /** `-t/--timeout_sec` (compiler ≥ 16); null leaves the flag out. Default 180. */
  compilerTimeoutSec?: number | null;
  /**
   * `-i/--intermediate_tensors`: end the Edge TPU part at these tensors (names joined with commas). Only
   * meaningful when compiling a whole model; the head of a split already ends at the cut.
   */
  intermediateTensors?: readonly string[];
  /** `-m/--min_runtime_version`. */
  minRuntimeVersion?: number;
}

/** One input model of a run and what the compiler produced for it. */
export interface EdgeTpuRunModel {
  /** The input path as passed. */
  input: string;
  /** Absolute path of `<name>_edgetpu.tflite`. */
  output: string;
  /** Absolute path of `<name>_edgetpu.log` when the compiler wrote one. */
  log?: string;
  /** The report block printed for this model. */
  block: ParsedModelBlock;
  /** The operation table: from the log file when present, else as printed with `-s`. */
  operations: OperationRow[];
  /** Ops on the Edge TPU and on the CPU. */
  counts: { edgetpu: number; cpu: number; total: number };
}

/** What {@link runEdgeTpuCompiler} returns for a successful run. */
export interface EdgeTpuRunResult {
  compilerPath: string;
  /** Arguments passed (without the executable). */
  args: string[];
  /** Version printed by the run. */
  version?: string;
  stdout: string;
  stderr: string;
  parsed: ParsedCompilerOutput;
  /** Per input model, in argument order. */
  models: EdgeTpuRunModel[];
}

/** The command line for a run, in the documented flag order: `-s -o DIR [-t S] [-i A,B] [-m V] model…`. */
export function edgeTpuCompilerArgs(inputs: readonly string[], options: EdgeTpuRunOptions): string[] {
  const args = ['-s', '-o', options.outDir];
  const t =
    options.compilerTimeoutSec === undefined ? DEFAULT_COMPILER_TIMEOUT_SEC : options.compilerTimeoutSec;
  if (t !== null) {
    if (!Number.isInteger(t) || t <= 0) {
      throw new InvalidArgumentError(
        expected('a positive integer number of seconds', 'compilerTimeoutSec', t),
      );
    }
    args.push('-t', String(t));
  }
  if (options.intermediateTensors !== undefined && options.intermediateTensors.length > 0) {
    const bad = options.intermediateTensors.find((name) => name === '' || name.includes(','));
    if (bad !== undefined) {
      throw new InvalidArgumentError(
        expected('tensor names without commas (the -i list separator)', 'intermediateTensors', bad),
      );
    }
    args.push('-i', options.intermediateTensors.join(','));
  }
  if (options.minRuntimeVersion !== undefined) {
    if (!Number.isInteger(options.minRuntimeVersion) || options.minRuntimeVersion <= 0) {
      throw new InvalidArgumentError(
        expected('a positive integer runtime version', 'minRuntimeVersion', options.minRuntimeVersion),
      );
    }
    args.push('-m', String(options.minRuntimeVersion));
  }
  return [...args, ...inputs];
}

/** Throws the typed error for a run that did not start, timed out, or died by a signal. */
function checkRun(
  result: ProcessResult,
  compilerPath: string,
  args: readonly string[],
  timeoutMs: number,
): void {
  const details = { compiler: compilerPath, args: [...args] };
  if (result.spawnError !== undefined) {
    throw new SwapLessIoError(
      `${expected('an edgetpu_compiler that starts', 'compiling for the Edge TPU', compilerPath)} (${result.spawnError.message})`,
      { cause: result.spawnError, details },
    );
  }
  if (result.timedOut) {
    throw new CompilerTimeoutError(
      `Expected edgetpu_compiler to finish within ${timeoutMs} ms for ${args.filter((a) => a.endsWith('.tflite')).join(', ') || 'the query'} but it was still running; its process group was killed`,
      timeoutMs,
      {
        details: {
          ...details,
          stdoutTail: result.stdout.slice(-2000),
          stderrTail: result.stderr.slice(-2000),
        },
      },
    );
  }
  if (result.signal !== null) {
    throw new CompilerFailedError(
      `Expected edgetpu_compiler to exit for ${compilerPath} but received signal ${result.signal}`,
      'signal',
      result,
      { details: { ...details, signal: result.signal } },
    );
  }
}

/** Matches printed blocks to inputs: by file name when every input has a block of that name, else by order. */
function matchBlocks(
  inputs: readonly string[],
  blocks: readonly ParsedModelBlock[],
): (ParsedModelBlock | undefined)[] {
  const byName = inputs.map((input) => blocks.find((b) => basename(b.inputModel) === basename(input)));
  if (byName.every((b) => b !== undefined) && new Set(byName).size === inputs.length) return byName;
  return inputs.map((_, i) => blocks[i]);
}

/**
 * Runs `edgetpu_compiler -s -o outDir [-t s] [-i names] [-m v] inputs…` (several inputs are co-compiled and
 * share one caching token), parses its console report and operation logs, and checks every model compiled.
 *
 * @throws CompilerTimeoutError when it runs longer than `timeoutMs` (the process group is killed).
 * @throws CompilerFailedError on a non-zero exit, a failure line, a model with no op on the Edge TPU, a
 *   missing output file, or output that has no report block for an input.
 * @throws SwapLessIoError when the executable cannot be started.
 */
export async function runEdgeTpuCompiler(
  inputs: readonly string[],
  options: EdgeTpuRunOptions,
): Promise<EdgeTpuRunResult> {
  if (inputs.length === 0) {
    throw new InvalidArgumentError(expected('at least one .tflite path', 'runEdgeTpuCompiler', inputs));
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROCESS_TIMEOUT_MS;
  const args = edgeTpuCompilerArgs(inputs, options);
  const cwd = resolve(options.cwd ?? options.outDir);
  const outDir = resolve(cwd, options.outDir);
  const result = await runProcess(options.compilerPath, args, { cwd, timeoutMs });
  checkRun(result, options.compilerPath, args, timeoutMs);
  const parsed = parseCompilerOutput(`${result.stdout}\n${result.stderr}`);
  const details = {
    compiler: options.compilerPath,
    args,
    exitCode: result.exitCode,
    failures: parsed.failures,
  };
  const failureText = parsed.failures.length > 0 ? `: ${parsed.failures.join(' | ')}` : '';
  const stderrText = result.stderr.trim() === '' ? '' : ` (stderr: ${result.stderr.trim().slice(0, 500)})`;
  if (result.exitCode !== 0) {
    throw new CompilerFailedError(
      `Expected edgetpu_compiler to compile ${inputs.map((i) => basename(i)).join(', ')} but it exited with status ${result.exitCode}${failureText}${stderrText}`,
      'exit-status',
      result,
      { details },
    );
  }
  if (!parsed.succeeded) {
    throw new CompilerFailedError(
      `Expected edgetpu_compiler to report a successful compile of ${inputs.map((i) => basename(i)).join(', ')} but it reported ${parsed.failures.length > 0 ? `a failure${failureText}` : 'no success line'}${stderrText}`,
      parsed.failures.length > 0 ? 'failure-reported' : 'unparsable',
      result,
      { details },
    );
  }
  const blocks = matchBlocks(inputs, parsed.models);
  const models: EdgeTpuRunModel[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    const block = blocks[i];
    if (block === undefined) {
      throw new CompilerFailedError(
        `Expected a report block ("Input model: …") for ${basename(input)} in the edgetpu_compiler output but received ${parsed.models.length} block(s) for ${inputs.length} model(s)`,
        'unparsable',
        result,
        { details },
      );
    }
    const name = basename(input).replace(/\.tflite$/, '');
    const output = join(outDir, `${name}_edgetpu.tflite`);
    if (
      !(await stat(output)
        .then((s) => s.isFile() && s.size > 0)
        .catch(() => false))
    ) {
      throw new CompilerFailedError(
        `Expected edgetpu_compiler to write ${output} but received no such file`,
        'no-output',
        result,
        { details: { ...details, output } },
      );
    }
    const logPath = join(outDir, `${name}_edgetpu.log`);
    const logText = await readFile(logPath, 'utf8').catch(() => undefined);
    const logTable = logText === undefined ? [] : parseOperationLog(logText).operations;
    const operations = logTable.length > 0 ? logTable : block.operations;
    const counts = operationCounts(block, operations);
    if (counts.edgetpu === 0 || block.edgetpuSubgraphs === 0) {
      throw new CompilerFailedError(
        `Expected at least one op of ${basename(input)} mapped to the Edge TPU but received 0 of ${counts.total} (Model not mapped)`,
        'not-mapped',
        result,
        { details: { ...details, operations } },
      );
    }
    const model: EdgeTpuRunModel = { input, output, block, operations, counts };
    if (logText !== undefined) model.log = logPath;
    models.push(model);
  }
  const run: EdgeTpuRunResult = {
    compilerPath: options.compilerPath,
    args,
    stdout: result.stdout,
    stderr: result.stderr,
    parsed,
    models,
  };
  if (parsed.version !== undefined) run.version = parsed.version;
  return run;
}
