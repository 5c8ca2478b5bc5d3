import { readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import {
  ErrorCodes,
  InvalidArgumentError,
  InvalidCutError,
  type ProgressEvent,
  SwapLessIoError,
  UnsupportedModelError,
} from '@swapless/core';
import { buildTestNet, GraphBuilder, tinyModel } from '@swapless/int8-builder';
import { analyzeModel, readModel, writeModel } from '@swapless/tflite';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMPILER_ENV } from './edgetpu.js';
import { CompilerFailedError, CompilerTimeoutError } from './errors.js';
import {
  FAILING_COMPILER,
  FAKE_COMPILER,
  HANGING_COMPILER,
  removeTempDirs,
  tempDir,
} from './fake-compiler.test-util.js';
import type { EdgeTpuCompilerReport } from './report.js';
import { coCompile, type Variant, variants } from './variants.js';

const MiB = 1024 * 1024;
const testNet = writeModel(buildTestNet());
const N = analyzeModel(buildTestNet()).n;

/** conv → HARD_SWISH (cannot map) → conv: the Edge-TPU-mappable prefix is one op. */
function partialNet(): Uint8Array {
  const b = new GraphBuilder({ seed: 3, name: 'partial' });
  const x = b.input('input', [1, 8, 8, 3]);
  const c = b.conv2d(x, { filters: 4, kernel: 3, name: 'conv_a' });
  const h = b.hardSwish(c, { name: 'hswish' });
  b.output(b.conv2d(h, { filters: 4, kernel: 1, name: 'conv_b' }));
  return writeModel(b.build());
}

async function callsOf(file: string): Promise<{ argv: string[]; cwd: string }[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { argv: string[]; cwd: string });
}

async function snapshot(v: Variant): Promise<Record<string, { bytes: string; mtimeMs: number }>> {
  const out: Record<string, { bytes: string; mtimeMs: number }> = {};
  for (const [name, path] of Object.entries(v.files)) {
    if (path === null) continue;
    out[name] = { bytes: (await readFile(path)).toString('base64'), mtimeMs: (await stat(path)).mtimeMs };
  }
  return out;
}

beforeEach(() => {
  // A compiler configured on the developer's machine must not leak into these tests.
  vi.stubEnv(COMPILER_ENV, '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(removeTempDirs);

describe('variants, emulated', () => {
  it('writes both segments and the emulated report, marked emulated everywhere', async () => {
    const cache = await tempDir();
    const [v0, v3, vn] = await variants(testNet, [0, 3, N], { compiler: 'emulator', cacheDir: cache });
    for (const v of [v0!, v3!, vn!]) {
      expect(v.source).toBe('emulated');
      expect(v.compiler).toMatchObject({ kind: 'emulator', profile: 'usb3' });
      expect(v.fromCache).toBe(false);
      expect(v.dir.startsWith(cache)).toBe(true);
      expect(v.n).toBe(N);
      expect(v.files.tpuCompiled).toBeNull();
    }
    expect(v0!.files.tpu).toBeNull();
    expect(v0!.report).toBeNull();
    expect(analyzeModel(readModel(await readFile(v0!.files.cpu!))).n).toBe(N);

    expect(v3!.report?.source).toBe('emulated');
    expect(v3!.report?.mappedOps).toBe(3);
    expect(v3!.report?.unmappedOps).toBe(0);
    expect(v3!.partial).toBe(false);
    expect(analyzeModel(readModel(await readFile(v3!.files.tpu!))).n).toBe(3);
    expect(analyzeModel(readModel(await readFile(v3!.files.cpu!))).n).toBe(N - 3);
    expect(v3!.boundary.k).toBe(3);

    expect(vn!.files.cpu).toBeNull();
    expect(vn!.report?.mappedOps).toBe(N);
  });

  it('returns the same paths, bytes and report from the cache without rebuilding', async () => {
    const cache = await tempDir();
    const events: ProgressEvent[] = [];
    const first = await variants(testNet, [2, 5], { compiler: 'emulator', cacheDir: cache });
    const before = await Promise.all(first.map(snapshot));
    const second = await variants(testNet, [2, 5], {
      compiler: 'emulator',
      cacheDir: cache,
      onProgress: (e) => events.push(e),
    });
    expect(second.map((v) => v.fromCache)).toEqual([true, true]);
    expect(second.map((v) => v.files)).toEqual(first.map((v) => v.files));
    expect(second.map((v) => v.report)).toEqual(first.map((v) => v.report));
    expect(second.map((v) => v.key)).toEqual(first.map((v) => v.key));
    // Same bytes and untouched files: nothing was written again.
    expect(await Promise.all(second.map(snapshot))).toEqual(before);
    expect(events.map((e) => e.label)).toEqual(['k=2 (cached)', 'k=5 (cached)']);
    // A path to the same bytes is the same model.
    const dir = await tempDir();
    await writeFile(join(dir, 'm.tflite'), testNet);
    const [byPath] = await variants(join(dir, 'm.tflite'), [2], { compiler: 'emulator', cacheDir: cache });
    expect(byPath!.fromCache).toBe(true);
    expect(byPath!.dir).toBe(first[0]!.dir);
  });

  it('lets concurrent callers build the same entry: one wins, both get the same files', async () => {
    const cache = await tempDir();
    const [a, b] = await Promise.all([
      variants(testNet, [5], { compiler: 'emulator', cacheDir: cache }),
      variants(testNet, [5], { compiler: 'emulator', cacheDir: cache }),
    ]);
    expect(a![0]!.files).toEqual(b![0]!.files);
    expect(a![0]!.report).toEqual(b![0]!.report);
    const parent = dirname(a![0]!.dir);
    expect((await readdir(parent)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const [c] = await variants(testNet, [5], { compiler: 'emulator', cacheDir: cache });
    expect(c!.fromCache).toBe(true);
  });

  it('keys entries by the emulator profile', async () => {
    const cache = await tempDir();
    const [usb3] = await variants(testNet, [4], { compiler: 'emulator', cacheDir: cache });
    const [pcie] = await variants(testNet, [4], { compiler: 'emulator', profile: 'pcie', cacheDir: cache });
    expect(pcie!.fromCache).toBe(false);
    expect(pcie!.dir).not.toBe(usb3!.dir);
    expect(pcie!.report?.profile).toBe('pcie');
  });

  it('detects a corrupt entry (altered file, missing file, bad manifest) and rebuilds it', async () => {
    const cache = await tempDir();
    const [original] = await variants(testNet, [4], { compiler: 'emulator', cacheDir: cache });
    const bytes = await readFile(original!.files.tpu!);
    const corruptions: (() => Promise<void>)[] = [
      async () => {
        const altered = Buffer.from(bytes);
        const last = altered.length - 1;
        altered.writeUInt8(altered.readUInt8(last) ^ 0xff, last);
        await writeFile(original!.files.tpu!, altered);
      },
      () => rm(original!.files.cpu!),
      () => writeFile(join(original!.dir, 'manifest.json'), '{ not json'),
      () =>
        writeFile(
          join(original!.dir, 'manifest.json'),
          JSON.stringify({ schema: 1, key: 'other', files: {} }),
        ),
    ];
    for (const corrupt of corruptions) {
      await corrupt();
      const [rebuilt] = await variants(testNet, [4], { compiler: 'emulator', cacheDir: cache });
      expect(rebuilt!.fromCache).toBe(false);
      expect(rebuilt!.files).toEqual(original!.files);
      expect(await readFile(rebuilt!.files.tpu!)).toEqual(bytes);
      expect(rebuilt!.report).toEqual(original!.report);
      const [again] = await variants(testNet, [4], { compiler: 'emulator', cacheDir: cache });
      expect(again!.fromCache).toBe(true);
    }
  });

  it('reports ops of the TPU segment that will run on the CPU (partial mapping)', async () => {
    const cache = await tempDir();
    const [v] = await variants(partialNet(), [3], { compiler: 'emulator', cacheDir: cache });
    expect(v!.partial).toBe(true);
    expect(v!.report?.mappedOps).toBe(1);
    expect(v!.report?.unmappedOps).toBe(2);
    expect(v!.report?.models[0]?.firstUnmapped?.type).toBe('HARD_SWISH');
  });
});

describe('variants, typed errors', () => {
  it('refuses cuts out of range with InvalidCutError', async () => {
    const cache = await tempDir();
    for (const k of [-1, N + 1, 1.5, Number.NaN]) {
      const err = await variants(testNet, [k], { compiler: 'emulator', cacheDir: cache }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InvalidCutError);
      expect((err as InvalidCutError).code).toBe(ErrorCodes.INVALID_CUT);
      expect((err as Error).message).toMatch(
        new RegExp(`^Expected an integer cut point between 0 and ${N} for`),
      );
    }
  });

  it('refuses TPU variants of a model with no mappable prefix (float) but allows the CPU-only cut', async () => {
    const cache = await tempDir();
    const float = writeModel(tinyModel({ type: 'float32' }));
    const err = await variants(float, [0, 1], { compiler: 'emulator', cacheDir: cache }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UnsupportedModelError);
    expect((err as UnsupportedModelError).code).toBe(ErrorCodes.UNSUPPORTED_MODEL);
    expect((err as Error).message).toMatch(
      /^Expected a model whose first ops can map to the Edge TPU .*\(cuts 1\) but received a model whose first op cannot map: /,
    );
    const [cpuOnly] = await variants(float, [0], { compiler: 'emulator', cacheDir: cache });
    expect(cpuOnly!.report).toBeNull();
    expect(cpuOnly!.files.cpu).not.toBeNull();
  });

  it('reports an unwritable cache directory and an unreadable model as SwapLessIoError', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'file'), 'x');
    const err = await variants(testNet, [2], {
      compiler: 'emulator',
      cacheDir: join(dir, 'file', 'sub'),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwapLessIoError);
    expect((err as SwapLessIoError).code).toBe(ErrorCodes.IO);
    expect((err as Error).message).toMatch(/^Expected a writable directory for compiled variants/);
    const missing = await variants(join(dir, 'missing.tflite'), [2], {
      compiler: 'emulator',
      cacheDir: dir,
    }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SwapLessIoError);
  });

  it('refuses bad arguments with InvalidArgumentError', async () => {
    const cache = await tempDir();
    const cases = [
      () => variants(testNet, 3 as unknown as number[], { cacheDir: cache }),
      () => variants(42 as unknown as Uint8Array, [1], { cacheDir: cache }),
      () => variants(testNet, [1], { cacheDir: cache, compiler: 'gcc' as 'auto' }),
      () => variants(testNet, [1], { cacheDir: cache, profile: 'usb9' as 'usb3' }),
      () => variants(testNet, [1], { cacheDir: cache, timeoutMs: -5 }),
    ];
    for (const call of cases) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
    }
  });
});

describe('variants with edgetpu_compiler (fake)', () => {
  it('compiles the TPU segment, parses its report and caches the result (one compiler run)', async () => {
    const cache = await tempDir();
    const calls = join(await tempDir(), 'calls.jsonl');
    vi.stubEnv('FAKE_EDGETPU_CALLS', calls);
    const options = { compilerPath: FAKE_COMPILER, cacheDir: cache };
    const [v0, v4] = await variants(testNet, [0, 4], options);
    expect(v0!.source).toBe('edgetpu_compiler');
    expect(v0!.report).toBeNull();
    const v = v4!;
    expect(v.source).toBe('edgetpu_compiler');
    expect(v.compiler).toEqual({ kind: 'edgetpu_compiler', version: '16.0.384591198' });
    const report = v.report as EdgeTpuCompilerReport;
    expect(report.source).toBe('edgetpu_compiler');
    expect(report.compiler.version).toBe('16.0.384591198');
    expect(report.compiler.compileTimeMs).toBe(1083);
    expect(report.onChipCachedBytes).toBe(Math.round(3.63 * MiB));
    expect(report.onChipRemainingBytes).toBe(Math.round(3.38 * MiB));
    expect(report.offChipStreamedBytes).toBe(0);
    expect(report.parameterBudgetBytes).toBe(Math.round(3.63 * MiB) + Math.round(3.38 * MiB));
    expect(report.models[0]!.operations).toHaveLength(5);
    expect(report.models[0]!.layers).toHaveLength(4);
    expect(report.derived).toContain('models[].layers');
    expect(await readFile(v.files.tpuCompiled!)).toEqual(await readFile(v.files.tpu!));
    expect(await readFile(v.files.tpuLog!, 'utf8')).toContain(
      'Operator                       Count      Status',
    );
    expect(await readFile(v.files.compilerOutput!, 'utf8')).toContain('Compilation succeeded!');
    // The head ends exactly at the cut: no -i; relative paths in the entry being built.
    const recorded = await callsOf(calls);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.argv).toEqual(['-s', '-o', '.', '-t', '180', 'tpu.tflite']);

    const before = await snapshot(v);
    const [again] = await variants(testNet, [4], options);
    expect(again!.fromCache).toBe(true);
    expect(again!.report).toEqual(v.report);
    expect(again!.files).toEqual(v.files);
    expect(await snapshot(again!)).toEqual(before);
    expect(await callsOf(calls)).toHaveLength(1);

    // Another compiler version is another compiler: a new entry and a new run.
    const newerCompiler = join(await tempDir(), 'edgetpu_compiler');
    await writeFile(
      newerCompiler,
      `#!/bin/sh\nFAKE_EDGETPU_VERSION=16.1.000000000 exec "${process.execPath}" "${FAKE_COMPILER}" "$@"\n`,
      { mode: 0o755 },
    );
    const [newer] = await variants(testNet, [4], { ...options, compilerPath: newerCompiler });
    expect(newer!.compiler).toEqual({ kind: 'edgetpu_compiler', version: '16.1.000000000' });
    expect(newer!.fromCache).toBe(false);
    expect(newer!.dir).not.toBe(v.dir);
    expect(await callsOf(calls)).toHaveLength(2);
  });

  it('reports partial mapping and streaming from the recorded logs', async () => {
    const cache = await tempDir();
    vi.stubEnv('FAKE_EDGETPU_FIXTURE', 'partially-mapped');
    const [partial] = await variants(testNet, [4], { compilerPath: FAKE_COMPILER, cacheDir: cache });
    expect(partial!.partial).toBe(true);
    expect(partial!.report?.mappedOps).toBe(66);
    expect(partial!.report?.unmappedOps).toBe(4);
    expect((partial!.report as EdgeTpuCompilerReport).models[0]!.partial).toBe(true);

    // Same compiler, same model, same cut: the cache would answer, so use another cache for the other log.
    vi.stubEnv('FAKE_EDGETPU_FIXTURE', 'streaming');
    const [streaming] = await variants(testNet, [4], {
      compilerPath: FAKE_COMPILER,
      cacheDir: await tempDir(),
    });
    expect(streaming!.report?.offChipStreamedBytes).toBe(Math.round(16.98 * MiB));
    expect(streaming!.partial).toBe(false);
  });

  it('uses edgetpu_compiler from PATH or the env variable in auto mode, else the emulator', async () => {
    const cache = await tempDir();
    const bin = await tempDir();
    await symlink(FAKE_COMPILER, join(bin, 'edgetpu_compiler'));
    const originalPath = process.env.PATH ?? '';
    vi.stubEnv('PATH', `${bin}${delimiter}${originalPath}`);
    const [onPath] = await variants(testNet, [2], { cacheDir: cache });
    expect(onPath!.source).toBe('edgetpu_compiler');

    vi.stubEnv('PATH', dirname(process.execPath));
    const [none] = await variants(testNet, [2], { cacheDir: cache });
    expect(none!.source).toBe('emulated');
    expect(none!.report?.source).toBe('emulated');
    const forced = await variants(testNet, [2], { cacheDir: cache, compiler: 'edgetpu_compiler' }).catch(
      (e: unknown) => e,
    );
    expect(forced).toBeInstanceOf(InvalidArgumentError);

    vi.stubEnv(COMPILER_ENV, FAKE_COMPILER);
    const [fromEnv] = await variants(testNet, [2], { cacheDir: cache });
    expect(fromEnv!.source).toBe('edgetpu_compiler');
    expect(fromEnv!.fromCache).toBe(true);
  });

  it('gives CompilerTimeoutError for a hanging compiler and leaves no entry behind', async () => {
    const cache = await tempDir();
    const err = await variants(testNet, [3], {
      compilerPath: HANGING_COMPILER,
      cacheDir: cache,
      timeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CompilerTimeoutError);
    expect((err as CompilerTimeoutError).code).toBe(ErrorCodes.COMPILER_TIMEOUT);
    const k3 = join(cache, (await readdir(cache))[0]!, 'k3');
    expect(await readdir(k3)).toEqual([]);
  });

  it('gives CompilerFailedError with the stderr of a failing compiler and leaves no entry behind', async () => {
    const cache = await tempDir();
    const err = await variants(testNet, [3], { compilerPath: FAILING_COMPILER, cacheDir: cache }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CompilerFailedError);
    expect((err as CompilerFailedError).code).toBe(ErrorCodes.COMPILER_FAILED);
    expect((err as CompilerFailedError).stderr).toContain('ERROR: Attempting to use a delegate');
    const k3 = join(cache, (await readdir(cache))[0]!, 'k3');
    expect(await readdir(k3)).toEqual([]);
  });
});

describe('coCompile', () => {
  it('compiles a set once (emulated): shared token, per-segment reports, cached', async () => {
    const cache = await tempDir();
    const [a] = await variants(testNet, [6], { compiler: 'emulator', cacheDir: cache });
    const [b] = await variants(writeModel(buildTestNet(7)), [4], { compiler: 'emulator', cacheDir: cache });
    const set = await coCompile([a!.files.tpu!, b!.files.tpu!], { compiler: 'emulator', cacheDir: cache });
    expect(set.source).toBe('emulated');
    expect(set.report.source).toBe('emulated');
    expect(set.report.models).toHaveLength(2);
    expect(set.segments.map((s) => s.report.mappedOps)).toEqual([6, 4]);
    expect(set.segments[1]!.report).toEqual(set.report.models[1]);
    expect(set.cachingToken).toBe(set.report.cachingToken);
    expect(await readFile(set.segments[0]!.path)).toEqual(await readFile(a!.files.tpu!));
    // A co-compiled set has one token unlike the separately compiled segments.
    expect(set.cachingToken).not.toBe(a!.report!.cachingToken);
    const again = await coCompile([a!.files.tpu!, b!.files.tpu!], { compiler: 'emulator', cacheDir: cache });
    expect(again.fromCache).toBe(true);
    expect(again.report).toEqual(set.report);
    // Order matters: the budget is filled in argument order.
    const swapped = await coCompile([b!.files.tpu!, a!.files.tpu!], {
      compiler: 'emulator',
      cacheDir: cache,
    });
    expect(swapped.fromCache).toBe(false);
  });

  it('runs edgetpu_compiler once on all segments and splits its report per segment', async () => {
    const cache = await tempDir();
    const calls = join(await tempDir(), 'calls.jsonl');
    vi.stubEnv('FAKE_EDGETPU_CALLS', calls);
    const heads = await variants(testNet, [3, 5], { compiler: 'emulator', cacheDir: cache });
    const set = await coCompile(
      heads.map((v) => v.files.tpu!),
      { compilerPath: FAKE_COMPILER, cacheDir: cache },
    );
    expect(set.source).toBe('edgetpu_compiler');
    expect((await callsOf(calls)).map((c) => c.argv)).toEqual([
      ['-s', '-o', '.', '-t', '180', 'segment0.tflite', 'segment1.tflite'],
    ]);
    expect(set.segments.map((s) => s.report.onChipCachedBytes)).toEqual([
      Math.round(4.21 * MiB),
      Math.round(2.86 * MiB),
    ]);
    expect(set.segments[1]!.report.offChipStreamedBytes).toBe(Math.round(560.5 * 1024));
    expect(set.report.onChipRemainingBytes).toBe(Math.round(12.25 * 1024));
    for (const s of set.segments) expect((await stat(s.compiled!)).size).toBeGreaterThan(0);
    const again = await coCompile(
      heads.map((v) => v.files.tpu!),
      { compilerPath: FAKE_COMPILER, cacheDir: cache },
    );
    expect(again.fromCache).toBe(true);
    expect(await callsOf(calls)).toHaveLength(1);
  });

  it('refuses an empty set and a segment that cannot map', async () => {
    const cache = await tempDir();
    expect(
      await coCompile([], { compiler: 'emulator', cacheDir: cache }).catch((e: unknown) => e),
    ).toBeInstanceOf(InvalidArgumentError);
    const float = writeModel(tinyModel({ type: 'float32' }));
    expect(
      await coCompile([testNet, float], { compiler: 'emulator', cacheDir: cache }).catch((e: unknown) => e),
    ).toBeInstanceOf(UnsupportedModelError);
  });
});
