import { existsSync, readFileSync } from 'node:fs';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { ErrorCodes, InvalidArgumentError, SwapLessError, SwapLessIoError } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  COMPILER_ENV,
  edgeTpuCompilerArgs,
  edgeTpuCompilerVersion,
  findEdgeTpuCompiler,
  runEdgeTpuCompiler,
} from './edgetpu.js';
import { CompilerFailedError, CompilerTimeoutError } from './errors.js';
import {
  FAILING_COMPILER,
  FAKE_COMPILER,
  HANGING_COMPILER,
  removeTempDirs,
  tempDir,
} from './fake-compiler.test-util.js';

/** True while a process exists and is not a zombie (Linux /proc; elsewhere signal 0). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    if (existsSync('/proc/self/stat')) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

async function modelFile(dir: string, name = 'tpu.tflite'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, writeModel(buildTestNet()));
  return path;
}

beforeEach(() => {
  vi.stubEnv(COMPILER_ENV, '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(removeTempDirs);

describe('findEdgeTpuCompiler', () => {
  it('prefers options.compilerPath, then the env variable, then PATH', async () => {
    const bin = await tempDir();
    await symlink(FAKE_COMPILER, join(bin, 'edgetpu_compiler'));
    const path = { PATH: `${bin}${delimiter}/usr/bin` };
    expect(await findEdgeTpuCompiler({ env: path })).toBe(join(bin, 'edgetpu_compiler'));
    expect(await findEdgeTpuCompiler({ env: { ...path, [COMPILER_ENV]: FAILING_COMPILER } })).toBe(
      FAILING_COMPILER,
    );
    expect(
      await findEdgeTpuCompiler({
        compilerPath: HANGING_COMPILER,
        env: { ...path, [COMPILER_ENV]: FAILING_COMPILER },
      }),
    ).toBe(HANGING_COMPILER);
    expect(await findEdgeTpuCompiler({ env: { PATH: dirname(process.execPath) } })).toBeUndefined();
  });

  it('refuses an explicitly named compiler that is not executable', async () => {
    const dir = await tempDir();
    const notExecutable = join(dir, 'edgetpu_compiler');
    await writeFile(notExecutable, '#!/bin/sh\n');
    for (const options of [
      { compilerPath: notExecutable },
      { env: { [COMPILER_ENV]: join(dir, 'missing') } },
    ]) {
      const err = await findEdgeTpuCompiler(options).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    }
  });
});

describe('edgeTpuCompilerArgs', () => {
  it('passes -s, -o, -t, -i and -m in the documented form', () => {
    expect(edgeTpuCompilerArgs(['a.tflite'], { compilerPath: 'x', outDir: 'out' })).toEqual([
      '-s',
      '-o',
      'out',
      '-t',
      '180',
      'a.tflite',
    ]);
    expect(
      edgeTpuCompilerArgs(['a.tflite', 'b.tflite'], {
        compilerPath: 'x',
        outDir: 'out',
        compilerTimeoutSec: null,
        intermediateTensors: ['conv1', 'block/add;relu'],
        minRuntimeVersion: 13,
      }),
    ).toEqual(['-s', '-o', 'out', '-i', 'conv1,block/add;relu', '-m', '13', 'a.tflite', 'b.tflite']);
  });

  it('refuses values the compiler would misread', () => {
    const base = { compilerPath: 'x', outDir: 'o' };
    expect(() => edgeTpuCompilerArgs(['a'], { ...base, intermediateTensors: ['a,b'] })).toThrow(
      InvalidArgumentError,
    );
    expect(() => edgeTpuCompilerArgs(['a'], { ...base, compilerTimeoutSec: 0.5 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => edgeTpuCompilerArgs(['a'], { ...base, minRuntimeVersion: -1 })).toThrow(
      InvalidArgumentError,
    );
  });
});

describe('runEdgeTpuCompiler with a fake compiler', () => {
  it('runs the compiler, finds the output and the log, and parses the report', async () => {
    const dir = await tempDir();
    const calls = join(dir, 'calls.jsonl');
    vi.stubEnv('FAKE_EDGETPU_CALLS', calls);
    const input = await modelFile(dir);
    const run = await runEdgeTpuCompiler([input], {
      compilerPath: FAKE_COMPILER,
      outDir: dir,
      intermediateTensors: ['conv1'],
      minRuntimeVersion: 14,
    });
    expect(run.version).toBe('16.0.384591198');
    expect(run.models).toHaveLength(1);
    expect(run.models[0]!.output).toBe(join(dir, 'tpu_edgetpu.tflite'));
    expect(run.models[0]!.log).toBe(join(dir, 'tpu_edgetpu.log'));
    expect(run.models[0]!.counts).toEqual({ edgetpu: 65, cpu: 0, total: 65 });
    const recorded = (await readFile(calls, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { argv: string[] });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.argv).toEqual(['-s', '-o', dir, '-t', '180', '-i', 'conv1', '-m', '14', input]);
  });

  it('reads the version line of --version', async () => {
    expect(await edgeTpuCompilerVersion(FAKE_COMPILER)).toBe('16.0.384591198');
  });

  it('kills a hanging compiler and its worker after our timeout: CompilerTimeoutError', async () => {
    const dir = await tempDir();
    const pidFile = join(dir, 'worker.pid');
    vi.stubEnv('FAKE_EDGETPU_PIDFILE', pidFile);
    // 2 s: time for the fake compiler (a node process) to start and spawn its worker even on a loaded CI host; a
    // compiler killed before it wrote the worker's pid would leave nothing to check (the test was flaky at 300 ms).
    const err = await runEdgeTpuCompiler([await modelFile(dir)], {
      compilerPath: HANGING_COMPILER,
      outDir: dir,
      timeoutMs: 2000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompilerTimeoutError);
    expect(err).toBeInstanceOf(SwapLessError);
    expect((err as CompilerTimeoutError).code).toBe(ErrorCodes.COMPILER_TIMEOUT);
    expect((err as CompilerTimeoutError).details).toMatchObject({ reason: 'timeout', timeoutMs: 2000 });
    expect((err as Error).message).toMatch(/^Expected edgetpu_compiler to finish within 2000 ms/);
    // The compile worker was in the compiler's process group: it is dead too (at most a zombie left for init).
    const worker = Number(await readFile(pidFile, 'utf8'));
    await vi.waitFor(() => expect(isRunning(worker)).toBe(false), { timeout: 5000, interval: 20 });
  });

  it('turns a failing compiler into CompilerFailedError with its stderr', async () => {
    const dir = await tempDir();
    const err = await runEdgeTpuCompiler([await modelFile(dir)], {
      compilerPath: FAILING_COMPILER,
      outDir: dir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompilerFailedError);
    expect(err).toBeInstanceOf(SwapLessError);
    const failed = err as CompilerFailedError;
    expect(failed.code).toBe(ErrorCodes.COMPILER_FAILED);
    expect(failed.reason).toBe('exit-status');
    expect(failed.stderr).toContain(
      'ERROR: Attempting to use a delegate that only supports static-sized tensors',
    );
    expect(failed.message).toContain('exited with status 1');
    expect(failed.message).toContain('Compilation failed: Model failed in Tflite interpreter');
    expect(failed.message).toContain('stderr: ERROR: Attempting');
    expect(failed.details.failures).toContain('Compilation failed!');
  });

  it('reports a success without an output file as a failure (no-output)', async () => {
    const dir = await tempDir();
    vi.stubEnv('FAKE_EDGETPU_NO_OUTPUT', '1');
    const err = await runEdgeTpuCompiler([await modelFile(dir)], {
      compilerPath: FAKE_COMPILER,
      outDir: dir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompilerFailedError);
    expect((err as CompilerFailedError).reason).toBe('no-output');
  });

  it('reports a model of which no op maps as not-mapped', async () => {
    const dir = await tempDir();
    vi.stubEnv('FAKE_EDGETPU_FIXTURE', 'not-mapped');
    const err = await runEdgeTpuCompiler([await modelFile(dir)], {
      compilerPath: FAKE_COMPILER,
      outDir: dir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompilerFailedError);
    expect((err as CompilerFailedError).reason).toBe('not-mapped');
    expect((err as Error).message).toMatch(/0 of 3 \(Model not mapped\)$/);
  });

  it('reports a compiler that cannot be started as SwapLessIoError', async () => {
    const dir = await tempDir();
    const err = await runEdgeTpuCompiler([await modelFile(dir)], {
      compilerPath: join(dir, 'missing'),
      outDir: dir,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwapLessIoError);
    expect(err).not.toBeInstanceOf(CompilerTimeoutError);
  });

  it('matches co-compiled blocks to inputs in argument order', async () => {
    const dir = await tempDir();
    const a = await modelFile(dir, 'a.tflite');
    const b = await modelFile(dir, 'b.tflite');
    const run = await runEdgeTpuCompiler([a, b], { compilerPath: FAKE_COMPILER, outDir: dir });
    expect(run.models.map((m) => m.output)).toEqual([
      join(dir, 'a_edgetpu.tflite'),
      join(dir, 'b_edgetpu.tflite'),
    ]);
    expect(run.models.map((m) => m.counts.total)).toEqual([31, 65]);
  });
});
