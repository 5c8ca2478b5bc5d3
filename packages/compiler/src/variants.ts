/**
 * Segment variants: for each cut k, the TPU segment (ops [0,k)) and the CPU segment (ops [k,n)) as .tflite
 * files, plus the compile report of the TPU segment, kept in a content-addressed cache; and co-compiled sets
 * of TPU segments (one compile, one caching token). Layout and keys: docs/compiler.md.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cacheDir,
  describeValue,
  expected,
  InvalidArgumentError,
  InvalidCutError,
  noProgress,
  type ProgressListener,
  SwapLessIoError,
  UnsupportedModelError,
} from '@swapless/core';
import {
  analyzeModel,
  readModel,
  type SplitBoundary,
  type SplitResult,
  splitModel,
  type TfliteModel,
  writeModel,
} from '@swapless/tflite';
import type { ModelCompileReport } from '@swapless/tpu-emulator';
import {
  type Backend,
  type CompilerIdentity,
  type CompilerOptions,
  resolveBackend,
  splitterIdentity,
} from './backend.js';
import type { ReportSource, SegmentCompileReport } from './report.js';
import { commitEntry, discardEntry, ensureDir, entryKey, readEntry, sha256, stagingDir } from './store.js';

/** Sub-directory of the SwapLess cache that holds variants and co-compiled sets. */
export const VARIANTS_CACHE = 'variants';

/** Options of {@link variants} and {@link coCompile}. */
export interface VariantOptions extends CompilerOptions {
  /** Cache root. Default `cacheDir('variants')` (`$SWAPLESS_CACHE_DIR/variants`, …). */
  cacheDir?: string;
  /** Receives `{ phase: 'variants' | 'co-compile', done, total, label }` events. */
  onProgress?: ProgressListener;
}

/** File names of a variant entry (relative to its directory); null for a side that does not exist. */
interface VariantFileNames {
  tpu: string | null;
  tpuCompiled: string | null;
  tpuLog: string | null;
  cpu: string | null;
  compilerOutput: string | null;
}

/** The JSON payload of a variant's manifest. */
interface VariantData {
  k: number;
  n: number;
  modelSha256: string;
  source: ReportSource;
  compiler: CompilerIdentity;
  files: VariantFileNames;
  report: SegmentCompileReport | null;
  boundary: SplitBoundary;
}

/** Absolute paths of a variant's files; null for a side or artefact that does not exist. */
export interface VariantFiles {
  /** The TPU segment (head, ops [0,k)) as split, before compiling; null for k = 0. */
  readonly tpu: string | null;
  /** The `*_edgetpu.tflite` the real compiler made from it (what runs on a real Edge TPU); null when emulated. */
  readonly tpuCompiled: string | null;
  /** The compiler's operation log (`*_edgetpu.log`); null when emulated or not written. */
  readonly tpuLog: string | null;
  /** The CPU segment (tail, ops [k,n)); null for k = n. */
  readonly cpu: string | null;
  /** The compiler's console output, as captured; null when emulated. */
  readonly compilerOutput: string | null;
}

/** One variant of a model: the two segments of cut k and the compile report of the TPU segment. */
export interface Variant {
  readonly k: number;
  /** Compute ops of the model (cuts are 0..n). */
  readonly n: number;
  /** SHA-256 of the model bytes. */
  readonly modelSha256: string;
  /** Cache key (SHA-256 of model hash, cut, compiler identity, splitter, schema). */
  readonly key: string;
  /** The cache entry directory. */
  readonly dir: string;
  /** Which path produced the report: `emulated` or `edgetpu_compiler`. */
  readonly source: ReportSource;
  /** The compiler that produced the report (emulator version+profile, or the real compiler's version). */
  readonly compiler: CompilerIdentity;
  readonly files: VariantFiles;
  /** Compile report of the TPU segment; null for k = 0 (nothing runs on the Edge TPU). */
  readonly report: SegmentCompileReport | null;
  /** True when some ops of the TPU segment will run on the CPU (`report.unmappedOps > 0`). */
  readonly partial: boolean;
  /** How the two segments connect (docs/splitting.md). */
  readonly boundary: SplitBoundary;
  /** True when the entry was found in the cache (nothing was split or compiled). */
  readonly fromCache: boolean;
}

/** A co-compiled set: one compile of several TPU segments that share a caching token. */
export interface CoCompiledSet {
  /** Cache key (SHA-256 of the segment hashes in order, compiler identity, schema). */
  readonly key: string;
  readonly dir: string;
  readonly source: ReportSource;
  readonly compiler: CompilerIdentity;
  /** The caching token the set's models share. */
  readonly cachingToken: string;
  /** Report of the whole unit (totals, budget, per-model reports in argument order). */
  readonly report: SegmentCompileReport;
  /** Per segment, in argument order. */
  readonly segments: readonly CoCompiledSegment[];
  readonly fromCache: boolean;
}

/** One segment of a {@link CoCompiledSet}. */
export interface CoCompiledSegment {
  readonly index: number;
  /** SHA-256 of the segment bytes. */
  readonly sha256: string;
  /** The segment as given (copied into the entry). */
  readonly path: string;
  /** Its `*_edgetpu.tflite` from the real compiler; null when emulated. */
  readonly compiled: string | null;
  /** Its operation log; null when emulated or not written. */
  readonly log: string | null;
  /** Its model report within the unit (`report.models[index]`). */
  readonly report: ModelCompileReport;
}

interface CoCompileData {
  source: ReportSource;
  compiler: CompilerIdentity;
  report: SegmentCompileReport;
  segments: { sha256: string; file: string; compiled: string | null; log: string | null }[];
}

/** Reads a model given as bytes or as a path. SwapLessIoError when the file cannot be read. */
async function loadBytes(model: unknown, what: string): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (typeof model === 'string') {
    try {
      return new Uint8Array(await readFile(model));
    } catch (err) {
      throw new SwapLessIoError(
        `${expected('a readable .tflite file', what, model)} (${(err as Error).message})`,
        {
          cause: err,
          details: { path: model },
        },
      );
    }
  }
  throw new InvalidArgumentError(expected('the bytes of a .tflite model or its path', what, model));
}

function progress(listener: ProgressListener, event: Parameters<ProgressListener>[0]): void {
  try {
    listener(event);
  } catch {
    // A listener must not throw; if it does, the work goes on.
  }
}

function variantFromEntry(dir: string, key: string, data: VariantData, fromCache: boolean): Variant {
  const path = (name: string | null): string | null => (name === null ? null : join(dir, name));
  return {
    k: data.k,
    n: data.n,
    modelSha256: data.modelSha256,
    key,
    dir,
    source: data.source,
    compiler: data.compiler,
    files: {
      tpu: path(data.files.tpu),
      tpuCompiled: path(data.files.tpuCompiled),
      tpuLog: path(data.files.tpuLog),
      cpu: path(data.files.cpu),
      compilerOutput: path(data.files.compilerOutput),
    },
    report: data.report,
    partial: (data.report?.unmappedOps ?? 0) > 0,
    boundary: data.boundary,
    fromCache,
  };
}

/** Builds one variant entry in a staging directory from a split made by the caller, and commits it. */
async function buildVariant(
  split: SplitResult,
  write: (part: TfliteModel) => Uint8Array,
  target: VariantTarget,
  k: number,
  dir: string,
  key: string,
  keyMaterial: unknown,
): Promise<void> {
  const { backend } = target;
  const staging = await stagingDir(dir);
  try {
    const { head, tail, boundary } = split;
    const files: VariantFileNames = {
      tpu: null,
      tpuCompiled: null,
      tpuLog: null,
      cpu: null,
      compilerOutput: null,
    };
    const written: string[] = [];
    if (tail !== null) {
      await writeFile(join(staging, 'cpu.tflite'), write(tail));
      files.cpu = 'cpu.tflite';
      written.push('cpu.tflite');
    }
    let report: SegmentCompileReport | null = null;
    if (head !== null) {
      await writeFile(join(staging, 'tpu.tflite'), write(head));
      files.tpu = 'tpu.tflite';
      written.push('tpu.tflite');
      // The head ends exactly at the cut, so the compiler needs no -i: it maps what it can of ops [0,k).
      const out = await backend.compile(staging, ['tpu.tflite'], [head]);
      report = out.report;
      files.tpuCompiled = out.compiled[0] ?? null;
      files.tpuLog = out.logs[0] ?? null;
      files.compilerOutput = out.extraFiles[0] ?? null;
      for (const f of [files.tpuCompiled, files.tpuLog, ...out.extraFiles]) if (f !== null) written.push(f);
    }
    const data: VariantData = {
      k,
      n: target.n,
      modelSha256: target.modelSha256,
      source: backend.source,
      compiler: backend.identity,
      files,
      report,
      boundary,
    };
    await commitEntry(staging, dir, key, keyMaterial, [...new Set(written)], data);
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
}

/** Where and with what the variants of one model are compiled and cached. */
export interface VariantTarget {
  /** SHA-256 of the model bytes. */
  readonly modelSha256: string;
  /** Compute ops of the model. */
  readonly n: number;
  readonly backend: Backend;
  /** Cache root (created). */
  readonly root: string;
  /** The splitter identity (part of every key). */
  readonly splitter: string;
}

/** Resolves the compiler and the cache root of {@link variantEntry} calls for one model. */
export async function variantTarget(
  modelSha256: string,
  n: number,
  options: VariantOptions,
): Promise<VariantTarget> {
  const backend = await resolveBackend(options);
  const root = options.cacheDir ?? cacheDir(VARIANTS_CACHE);
  await ensureDir(root, 'compiled variants');
  return { modelSha256, n, backend, root, splitter: await splitterIdentity() };
}

/**
 * The cache entry of cut k of a model: read back when valid (a corrupt one is discarded), else built from
 * `split()` — called only on a miss, so a cached variant is never split again — and committed.
 */
export async function variantEntry(
  target: VariantTarget,
  k: number,
  split: () => SplitResult,
  write: (part: TfliteModel) => Uint8Array,
): Promise<Variant> {
  const { backend, modelSha256 } = target;
  const keyMaterial = {
    kind: 'variant',
    model: modelSha256,
    k,
    compiler: backend.identity,
    splitter: target.splitter,
  };
  const key = entryKey(keyMaterial);
  const dir = join(target.root, modelSha256, `k${k}`, entryKey({ compiler: backend.identity }).slice(0, 16));
  let entry = await readEntry<VariantData>(dir, key);
  if (entry.state === 'corrupt') await discardEntry(dir);
  if (entry.state === 'valid') return variantFromEntry(dir, key, entry.manifest.data, true);
  await buildVariant(split(), write, target, k, dir, key, keyMaterial);
  entry = await readEntry<VariantData>(dir, key);
  if (entry.state !== 'valid') {
    throw new SwapLessIoError(expected('a readable cache entry after writing it', `cut ${k}`, dir), {
      details: { path: dir, state: entry.state },
    });
  }
  return variantFromEntry(dir, key, entry.manifest.data, false);
}

/**
 * For each cut k of `model`: splits it (ops [0,k) → TPU segment, [k,n) → CPU segment), writes both as .tflite
 * files, and compiles the TPU segment with `edgetpu_compiler` when available (else the emulator's compile
 * report, `source: 'emulated'`). Results live in a content-addressed cache under `cacheDir('variants')` keyed
 * by the model's SHA-256, k, the compiler identity and the splitter: a second call returns the same paths,
 * bytes and report without splitting or compiling; a corrupt entry (bad manifest, missing or altered file) is
 * rebuilt. Cuts are handled in order, one compile at a time.
 *
 * @param model The model's bytes, or the path of a .tflite file.
 * @param cuts Cut points, integers in 0..n (k = 0: everything on the CPU; k = n: everything on the TPU).
 * @throws InvalidArgumentError for bad options or a cut list that is not an array.
 * @throws InvalidCutError for a cut that is not an integer in 0..n.
 * @throws UnsupportedModelError when a cut k > 0 is asked of a model with no Edge-TPU-mappable prefix (not
 *   int8/uint8), or when the real compiler fails ({@link CompilerFailedError}).
 * @throws CompilerTimeoutError (`SWAPLESS_IO`) when the compiler outlives `timeoutMs`.
 * @throws SwapLessIoError when the model cannot be read or the cache directory cannot be written.
 */
export async function variants(
  model: Uint8Array | string,
  cuts: readonly number[],
  options: VariantOptions = {},
): Promise<Variant[]> {
  const bytes = await loadBytes(model, 'the model of variants()');
  if (!Array.isArray(cuts))
    throw new InvalidArgumentError(expected('an array of cut points', 'variants()', cuts));
  const parsed = readModel(bytes);
  const analysis = analyzeModel(parsed);
  const n = analysis.n;
  for (const k of cuts) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > n) {
      throw new InvalidCutError(
        expected(`an integer cut point between 0 and ${n}`, `a model of ${n} ops`, k),
        {
          details: { k: typeof k === 'number' ? k : describeValue(k), n },
        },
      );
    }
  }
  const prefix = analysis.edgetpuPrefix;
  const needsTpu = cuts.filter((k) => k > 0);
  if (needsTpu.length > 0 && prefix.length === 0) {
    throw new UnsupportedModelError(
      `Expected a model whose first ops can map to the Edge TPU (fully int8/uint8-quantized) for TPU variants (cuts ${needsTpu.join(', ')}) but received a model whose first op cannot map: ${prefix.reason ?? 'unknown reason'}`,
      { details: { cuts: needsTpu, n, firstUnmappableOp: prefix.firstUnmappableOp, reason: prefix.reason } },
    );
  }
  const target = await variantTarget(sha256(bytes), n, options);
  const onProgress = options.onProgress ?? noProgress;
  const result: Variant[] = [];
  for (const [i, k] of cuts.entries()) {
    const v = await variantEntry(target, k, () => splitModel(parsed, k), writeModel);
    result.push(v);
    const label = `k=${k} (${v.fromCache ? 'cached' : 'compiled'})`;
    progress(onProgress, { phase: 'variants', done: i + 1, total: cuts.length, label });
  }
  return result;
}

function setFromEntry(dir: string, key: string, data: CoCompileData, fromCache: boolean): CoCompiledSet {
  return {
    key,
    dir,
    source: data.source,
    compiler: data.compiler,
    cachingToken: data.report.cachingToken,
    report: data.report,
    segments: data.segments.map((s, index) => ({
      index,
      sha256: s.sha256,
      path: join(dir, s.file),
      compiled: s.compiled === null ? null : join(dir, s.compiled),
      log: s.log === null ? null : join(dir, s.log),
      report: data.report.models[index]!,
    })),
    fromCache,
  };
}

/**
 * Compiles a set of TPU segments together in one compiler run (`edgetpu_compiler a.tflite b.tflite …`, or the
 * emulator's report of the set), so they share one caching token and fill the parameter budget in argument
 * order. Cached like {@link variants}, keyed by the segments' SHA-256s in order and the compiler identity.
 *
 * @param segments TPU segments (bytes or paths), e.g. `variant.files.tpu` of several tenants.
 * @throws InvalidArgumentError for an empty set.
 * @throws UnsupportedModelError when a segment has no Edge-TPU-mappable prefix, or the compiler fails.
 * @throws CompilerTimeoutError, SwapLessIoError as {@link variants}.
 */
export async function coCompile(
  segments: readonly (Uint8Array | string)[],
  options: VariantOptions = {},
): Promise<CoCompiledSet> {
  if (!Array.isArray(segments) || segments.length === 0) {
    throw new InvalidArgumentError(expected('a non-empty array of TPU segments', 'coCompile()', segments));
  }
  const bytes = await Promise.all(segments.map((s, i) => loadBytes(s, `segment ${i} of coCompile()`)));
  const models = bytes.map((b) => readModel(b));
  models.forEach((m, i) => {
    const prefix = analyzeModel(m).edgetpuPrefix;
    if (prefix.length === 0) {
      throw new UnsupportedModelError(
        `Expected a segment whose first ops can map to the Edge TPU for segment ${i} of coCompile() but received one whose first op cannot map: ${prefix.reason ?? 'unknown reason'}`,
        { details: { segment: i, reason: prefix.reason } },
      );
    }
  });
  const backend = await resolveBackend(options);
  const root = options.cacheDir ?? cacheDir(VARIANTS_CACHE);
  await ensureDir(root, 'co-compiled segments');
  const hashes = bytes.map((b) => sha256(b));
  const keyMaterial = { kind: 'co-compile', segments: hashes, compiler: backend.identity };
  const key = entryKey(keyMaterial);
  const dir = join(root, 'co-compiled', key);
  const onProgress = options.onProgress ?? noProgress;
  let entry = await readEntry<CoCompileData>(dir, key);
  if (entry.state === 'corrupt') await discardEntry(dir);
  if (entry.state === 'valid') {
    progress(onProgress, {
      phase: 'co-compile',
      done: 1,
      total: 1,
      label: `${segments.length} segments (cached)`,
    });
    return setFromEntry(dir, key, entry.manifest.data, true);
  }
  const staging = await stagingDir(dir);
  try {
    const names = bytes.map((_, i) => `segment${i}.tflite`);
    await Promise.all(bytes.map((b, i) => writeFile(join(staging, names[i]!), b)));
    const out = await backend.compile(staging, names, models);
    const data: CoCompileData = {
      source: backend.source,
      compiler: backend.identity,
      report: out.report,
      segments: names.map((file, i) => ({
        sha256: hashes[i]!,
        file,
        compiled: out.compiled[i] ?? null,
        log: out.logs[i] ?? null,
      })),
    };
    const files = [
      ...names,
      ...out.compiled.filter((c): c is string => c !== null),
      ...out.logs.filter((c): c is string => c !== null),
      ...out.extraFiles,
    ];
    await commitEntry(staging, dir, key, keyMaterial, [...new Set(files)], data);
  } catch (err) {
    await rm(staging, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  entry = await readEntry<CoCompileData>(dir, key);
  if (entry.state !== 'valid') {
    throw new SwapLessIoError(expected('a readable cache entry after writing it', 'coCompile()', dir), {
      details: { path: dir, state: entry.state },
    });
  }
  progress(onProgress, {
    phase: 'co-compile',
    done: 1,
    total: 1,
    label: `${segments.length} segments (compiled)`,
  });
  return setFromEntry(dir, key, entry.manifest.data, false);
}
