/**
 * The one home of serving variants: a bounded in-memory store that parses a model once, splits each (model, k)
 * once, computes each head's emulated compile report once per device profile, and compiles each head with
 * `edgetpu_compiler` once (through the on-disk cache of {@link variants}). The controller's catalogues, the
 * runtime and the service all read their variants from here. Keys and bounds: docs/compiler.md.
 */
import { readFile } from 'node:fs/promises';
import {
  expected,
  InvalidArgumentError,
  InvalidCutError,
  positiveInt,
  SwapLessIoError,
  UnsupportedModelError,
} from '@swapless/core';
import {
  analyzeModel,
  type ModelAnalysis,
  readModel,
  runnability,
  type SplitBoundary,
  type SplitResult,
  splitModel,
  type TfliteModel,
  writeModel,
} from '@swapless/tflite';
import {
  type CompileReport,
  callBreakdown,
  coCompileReports,
  compileReport,
  type DeviceProfile,
  type ProfileInput,
  resolveProfile,
} from '@swapless/tpu-emulator';
import type { SegmentCompileReport } from './report.js';
import { canonicalJson, sha256 } from './store.js';
import { type VariantOptions, variantEntry, variantTarget } from './variants.js';

/** Default bound on parsed models kept by a {@link VariantStore}. */
export const DEFAULT_MAX_MODELS = 16;
/** Default bound on split (model, k) variants kept by a {@link VariantStore}. */
export const DEFAULT_MAX_VARIANTS = 256;
/** Default bound on the bytes a {@link VariantStore} holds (model copies and written parts): 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Default bound on co-compiled set reports kept by a {@link VariantStore} (they hold no model bytes). */
export const DEFAULT_MAX_SETS = 1024;

/** One member of a co-compiled set: a model cut at k (its head [0,k) joins the set). */
export interface SetMember {
  readonly model: StoredModel | Uint8Array;
  readonly k: number;
}

/** A model as the store holds it: its bytes (a private copy), hash, parse and analysis, made once. */
export interface StoredModel {
  /** SHA-256 of the bytes, lowercase hex: the model's identity in every key. */
  readonly sha256: string;
  /**
   * The store's own copy of the bytes (never the caller's buffer). Read only: the parts served at the ends are these
   * bytes, and the runtime loads parts without verifying them again.
   */
  readonly bytes: Uint8Array;
  readonly model: TfliteModel;
  readonly analysis: ModelAnalysis;
  /** Compute ops: cuts are 0..n. */
  readonly n: number;
  /** Compiled by edgetpu_compiler (`*_edgetpu.tflite`): served whole (k = n) on a real Edge TPU only. */
  readonly compiled: boolean;
}

/** One serving variant: model split at cut k, the parts' bytes and, under the emulator, the head's report. */
export interface ServedVariant {
  /** `<model hash 8>:k=<k>`. */
  readonly id: string;
  /** SHA-256 of the model. */
  readonly model: string;
  readonly k: number;
  readonly n: number;
  /** The head (ops [0,k)) as bytes; at k = n the model's own bytes; null for k = 0. */
  readonly head: Uint8Array | null;
  /** The tail (ops [k,n)) as bytes; at k = 0 the model's own bytes; null for k = n. */
  readonly tail: Uint8Array | null;
  readonly boundary: SplitBoundary;
  /** The head's emulated compile report for the profile asked for; null without a head or without a profile. */
  readonly report: CompileReport | null;
  /** The head is an `*_edgetpu.tflite` given as it is (k = n, nothing split): no head compiler touches it. */
  readonly compiled: boolean;
}

/** A head compiled by `edgetpu_compiler`: its bytes and the compiler's report. */
export interface CompiledHead {
  readonly bytes: Uint8Array;
  /** The `*_edgetpu.tflite` in the on-disk cache. */
  readonly path: string;
  readonly report: SegmentCompileReport | null;
  /** True when the on-disk cache already held it (no compiler ran). */
  readonly fromCache: boolean;
}

/** What the store did, for counting and tests: one event per piece of work, never for a cache hit. */
export type VariantStoreEvent =
  | { readonly type: 'parse'; readonly model: string }
  | { readonly type: 'split'; readonly model: string; readonly k: number }
  | { readonly type: 'report'; readonly model: string; readonly k: number; readonly profile: string }
  | { readonly type: 'compile'; readonly model: string; readonly k: number; readonly fromCache: boolean }
  | { readonly type: 'evict'; readonly model: string; readonly k: number | null }
  | { readonly type: 'set'; readonly members: readonly string[]; readonly profile: string };

/** Options of {@link VariantStore}. */
export interface VariantStoreOptions {
  /** Parsed models kept (least recently used dropped first, with their variants). Default 16. */
  maxModels?: number;
  /** Split variants kept across all models (least recently used dropped first). Default 256. */
  maxVariants?: number;
  /**
   * Bytes held — the models' copies and the parts written for served variants — beyond which the least recently
   * used variants, then models, are dropped (the most recent one always stays). Default 256 MiB.
   */
  maxBytes?: number;
  /** Co-compiled set reports kept (least recently used dropped first). Default 1024. */
  maxSets?: number;
  /** Options of the real compiler and its on-disk cache, for {@link VariantStore.compiledHead}. */
  compiler?: VariantOptions;
  /** Called after each parse, split, report, compile and eviction (a listener that throws is ignored). */
  onEvent?: (event: VariantStoreEvent) => void;
}

/** Counters of a {@link VariantStore} since it was made. */
export interface VariantStoreStats {
  /** Models and variants held now, and their bytes (model copies and written parts). */
  models: number;
  variants: number;
  bytes: number;
  parses: number;
  splits: number;
  reports: number;
  compiles: number;
  evictions: number;
  /** Co-compiled set reports made (one per set, order, cuts and profile). */
  sets: number;
}

/** One split (model, k) and what was derived from it. */
interface SplitEntry {
  readonly model: StoredModel;
  readonly k: number;
  readonly split: SplitResult;
  head?: Uint8Array | null;
  tail?: Uint8Array | null;
  /** Emulated reports by profile key. */
  readonly reports: Map<string, CompileReport>;
  /** Served variants by profile key ('' for none). */
  readonly served: Map<string, ServedVariant>;
  /** Compiled heads by the compiler options' canonical JSON. */
  readonly compiled: Map<string, Promise<CompiledHead>>;
}

/** The work counters of a store. */
type Counter = 'parses' | 'splits' | 'reports' | 'compiles' | 'evictions' | 'sets';

/** The split entry behind each served variant (so a variant outlives its eviction for compiling). */
const entryOf = new WeakMap<ServedVariant, SplitEntry>();
/** Profile keys by profile object: a profile's canonical JSON is hashed once. */
const profileKeys = new WeakMap<DeviceProfile, string>();

function profileKey(profile: DeviceProfile): string {
  let key = profileKeys.get(profile);
  if (key === undefined) {
    key = `${profile.name}:${sha256(canonicalJson(profile)).slice(0, 16)}`;
    profileKeys.set(profile, key);
  }
  return key;
}

/**
 * A bounded cache of serving variants keyed by model identity (SHA-256 of its bytes) and cut, with the compile
 * options on top: the device profile for an emulated report, the compiler identity for a compiled head. Every
 * method is synchronous except {@link compiledHead}; errors are the typed errors of the work they stand for
 * (`InvalidModelError` for bytes that are not a model, `InvalidCutError`, `UnsupportedModelError`…) and are never
 * cached, so a retry does the work again.
 */
export class VariantStore {
  readonly #maxModels: number;
  readonly #maxVariants: number;
  readonly #maxBytes: number;
  /** Bytes held: model copies plus parts written (an end reuses its model's bytes and counts nothing). */
  #bytes = 0;
  readonly #compiler: VariantOptions;
  readonly #onEvent: ((event: VariantStoreEvent) => void) | undefined;
  /** By SHA-256; Map order is recency (a hit re-inserts). */
  readonly #models = new Map<string, StoredModel>();
  /** By `<sha256>:<k>`; Map order is recency. */
  readonly #variants = new Map<string, SplitEntry>();
  readonly #counts = { parses: 0, splits: 0, reports: 0, compiles: 0, evictions: 0, sets: 0 };
  readonly #maxSets: number;
  /** Co-compiled set reports by members' tokens in order and profile key; Map order is recency. */
  readonly #sets = new Map<string, CompileReport>();

  /** @throws InvalidArgumentError for bounds that are not positive integers or a listener that is not a function. */
  constructor(options: VariantStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError(expected('an options object', 'the VariantStore', options));
    }
    this.#maxModels = positiveInt(options.maxModels ?? DEFAULT_MAX_MODELS, 'the VariantStore maxModels');
    this.#maxVariants = positiveInt(
      options.maxVariants ?? DEFAULT_MAX_VARIANTS,
      'the VariantStore maxVariants',
    );
    this.#maxBytes = positiveInt(options.maxBytes ?? DEFAULT_MAX_BYTES, 'the VariantStore maxBytes');
    this.#maxSets = positiveInt(options.maxSets ?? DEFAULT_MAX_SETS, 'the VariantStore maxSets');
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
      throw new InvalidArgumentError(expected('a function', 'the VariantStore onEvent', options.onEvent));
    }
    this.#compiler = options.compiler ?? {};
    this.#onEvent = options.onEvent;
  }

  /**
   * The stored model of `bytes` (parsed and analysed on first sight; the store keeps a copy of the bytes).
   * @throws InvalidArgumentError for a value that is not a Uint8Array.
   * @throws InvalidModelError for bytes that are not a well-formed .tflite model.
   */
  model(bytes: Uint8Array): StoredModel {
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidArgumentError(expected('a Uint8Array of .tflite bytes', 'the VariantStore', bytes));
    }
    const hash = sha256(bytes);
    const hit = this.#models.get(hash);
    if (hit !== undefined) {
      this.#models.delete(hash);
      this.#models.set(hash, hit);
      return hit;
    }
    const own = bytes.slice();
    const model = readModel(own);
    const analysis = analyzeModel(model);
    const stored: StoredModel = {
      sha256: hash,
      bytes: own,
      model,
      analysis,
      n: analysis.n,
      compiled: runnability(model).compiled,
    };
    this.#count('parses', { type: 'parse', model: hash });
    this.#models.set(hash, stored);
    this.#bytes += own.length;
    while (this.#models.size > this.#maxModels) this.#evictModel(this.#models.keys().next().value!);
    this.#trim();
    return stored;
  }

  /**
   * The emulated compile report of the head [0,k) on `profile` (null for k = 0): what the controller's catalogue
   * and the service's device view read. Splits the model at k only if no caller has yet.
   * @throws InvalidCutError, UnsupportedModelError as {@link splitModel}.
   */
  report(model: StoredModel | Uint8Array, k: number, profile: ProfileInput): CompileReport | null {
    const entry = this.#entry(this.#stored(model), k);
    return entry.split.head === null ? null : this.#report(entry, resolveProfile(profile));
  }

  /**
   * The serving variant at cut k: the parts as bytes and, with a profile (the emulated Edge TPU), the head's
   * report — checked to have Edge TPU work, so a head the device cannot run fails here and not at its first
   * request. `profile` null is the real Edge TPU: no report.
   * @throws InvalidCutError for a cut outside 0..n or an unusable one.
   * @throws UnsupportedModelError for a model that cannot be split at k, for a compiled model under emulation,
   *   and for a head with no Edge TPU op.
   */
  variant(model: StoredModel | Uint8Array, k: number, device: ProfileInput | null): ServedVariant {
    const profile = device === null ? null : resolveProfile(device);
    const stored = this.#stored(model);
    if (stored.compiled) checkCompiled(stored, k, profile);
    const entry = this.#entry(stored, k);
    const key = profile === null ? '' : profileKey(profile);
    const hit = entry.served.get(key);
    if (hit !== undefined) return hit;
    let report: CompileReport | null = null;
    if (entry.split.head !== null && profile !== null) {
      report = this.#report(entry, profile);
      callBreakdown(report, profile);
    }
    const v: ServedVariant = {
      id: `${stored.sha256.slice(0, 8)}:k=${k}`,
      model: stored.sha256,
      k,
      n: stored.n,
      head: this.#partBytes(entry, 'head'),
      tail: this.#partBytes(entry, 'tail'),
      boundary: entry.split.boundary,
      report,
      compiled: stored.compiled,
    };
    entry.served.set(key, v);
    entryOf.set(v, entry);
    this.#trim();
    return v;
  }

  /**
   * The head of a served variant compiled by `edgetpu_compiler` (the store's `compiler` options, overridden by
   * `options`): built in the on-disk cache of {@link variants} from the store's own split — a head the cache
   * already holds is read back, never re-split or recompiled — and kept in memory per variant and compiler.
   * @throws InvalidArgumentError for a variant not made by a store, or when no compiler is found.
   * @throws UnsupportedModelError / CompilerFailedError when the compiler fails; CompilerTimeoutError; SwapLessIoError.
   */
  compiledHead(variant: ServedVariant, options: VariantOptions = {}): Promise<CompiledHead> {
    const entry = entryOf.get(variant);
    if (entry === undefined) {
      return Promise.reject(
        new InvalidArgumentError(expected('a variant made by a VariantStore', 'compiledHead()', variant)),
      );
    }
    if (entry.split.head === null) {
      return Promise.reject(
        new InvalidArgumentError(expected('a variant with a head (k > 0)', 'compiledHead()', variant.k)),
      );
    }
    const { onProgress: _ignored, ...rest } = { ...this.#compiler, ...options };
    const merged: VariantOptions = { compiler: 'edgetpu_compiler', ...rest };
    const key = canonicalJson(merged);
    let p = entry.compiled.get(key);
    if (p === undefined) {
      p = this.#compile(entry, merged);
      const made = p;
      entry.compiled.set(key, made);
      made.catch(() => {
        if (entry.compiled.get(key) === made) entry.compiled.delete(key);
      });
    }
    return p;
  }

  /**
   * The emulated compile report of a co-compiled set: the heads of `members` compiled together, in this order
   * (earlier members get the on-chip cache first), as one unit with one caching token. Made once per (members'
   * models, cuts, order, profile) from the heads' own reports, which are made (and split) on first use.
   * @throws InvalidArgumentError for an empty set; InvalidCutError / UnsupportedModelError as {@link report},
   *   and for a member at k = 0 (no head to co-compile).
   */
  coCompiledReport(members: readonly SetMember[], profile: ProfileInput): CompileReport {
    if (!Array.isArray(members) || members.length === 0) {
      throw new InvalidArgumentError(expected('at least one member', 'a co-compiled set', members));
    }
    const p = resolveProfile(profile);
    const heads = members.map((m, i) => {
      const r = this.report(m.model, m.k, p);
      if (r === null) {
        throw new InvalidCutError(
          expected('a cut k > 0 (a head to co-compile)', `member ${i} of a set`, m.k),
        );
      }
      return r;
    });
    return this.coCompiledFromReports(heads, p);
  }

  /**
   * {@link coCompiledReport} from the members' own head reports (as a controller's catalogue holds them),
   * cached under the same key: the heads' caching tokens in order (a head's token identifies its model and cut)
   * and the profile.
   * @throws InvalidArgumentError as `coCompileReports` of @swapless/tpu-emulator.
   */
  coCompiledFromReports(heads: readonly CompileReport[], profile: ProfileInput): CompileReport {
    const p = resolveProfile(profile);
    if (!Array.isArray(heads)) {
      throw new InvalidArgumentError(expected('an array of head reports', 'a co-compiled set', heads));
    }
    const key = `${heads.map((h) => h?.cachingToken).join('+')}@${profileKey(p)}`;
    const hit = this.#sets.get(key);
    if (hit !== undefined) {
      this.#sets.delete(key);
      this.#sets.set(key, hit);
      return hit;
    }
    const report = coCompileReports(heads, p);
    this.#sets.set(key, report);
    while (this.#sets.size > this.#maxSets) this.#sets.delete(this.#sets.keys().next().value!);
    this.#count('sets', { type: 'set', members: heads.map((h) => h.cachingToken), profile: p.name });
    return report;
  }

  /** What the store holds now and the work it has done since it was made. */
  stats(): VariantStoreStats {
    return {
      models: this.#models.size,
      variants: this.#variants.size,
      bytes: this.#bytes,
      ...this.#counts,
    };
  }

  /** Drops every model and variant (counters stay). Variants already handed out keep working. */
  clear(): void {
    this.#models.clear();
    this.#variants.clear();
    this.#sets.clear();
    this.#bytes = 0;
  }

  async #compile(entry: SplitEntry, options: VariantOptions): Promise<CompiledHead> {
    const { model, k } = entry;
    const target = await variantTarget(model.sha256, model.n, options);
    // Written as variants() writes them, so the serving path and `swapless compile` share cache entries.
    const v = await variantEntry(target, k, () => entry.split, writeModel);
    const path = v.files.tpuCompiled;
    if (path === null) {
      throw new SwapLessIoError(
        `Expected edgetpu_compiler to write a compiled head for cut ${k} of model ${model.sha256.slice(0, 12)} but received none`,
        { details: { k, dir: v.dir } },
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (err) {
      throw new SwapLessIoError(
        `${expected('a readable compiled head', `cut ${k}`, path)} (${(err as Error).message})`,
        { cause: err, details: { path } },
      );
    }
    this.#count('compiles', { type: 'compile', model: model.sha256, k, fromCache: v.fromCache });
    return { bytes, path, report: v.report, fromCache: v.fromCache };
  }

  #stored(model: StoredModel | Uint8Array): StoredModel {
    if (model instanceof Uint8Array) return this.model(model);
    if (typeof model !== 'object' || model === null || this.#models.get(model.sha256) !== model) {
      // A stored model of another store, or one evicted from this one: re-admit its bytes.
      if (typeof model === 'object' && model !== null && model.bytes instanceof Uint8Array) {
        return this.model(model.bytes);
      }
      throw new InvalidArgumentError(expected('model bytes or a stored model', 'the VariantStore', model));
    }
    this.#models.delete(model.sha256);
    this.#models.set(model.sha256, model);
    return model;
  }

  /** The split entry of (model, k): split on first use. */
  #entry(model: StoredModel, k: number): SplitEntry {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > model.n) {
      throw new InvalidCutError(
        expected(`an integer cut point between 0 and ${model.n}`, `a model of ${model.n} ops`, k),
        { details: { k: typeof k === 'number' ? k : String(k), n: model.n } },
      );
    }
    const key = `${model.sha256}:${k}`;
    const hit = this.#variants.get(key);
    if (hit !== undefined) {
      this.#variants.delete(key);
      this.#variants.set(key, hit);
      return hit;
    }
    const split = splitModel(model.model, k);
    const entry: SplitEntry = {
      model,
      k,
      split,
      reports: new Map(),
      served: new Map(),
      compiled: new Map(),
    };
    this.#count('splits', { type: 'split', model: model.sha256, k });
    this.#variants.set(key, entry);
    while (this.#variants.size > this.#maxVariants) this.#evictVariant(this.#variants.keys().next().value!);
    return entry;
  }

  #report(entry: SplitEntry, profile: DeviceProfile): CompileReport {
    const key = profileKey(profile);
    let report = entry.reports.get(key);
    if (report === undefined) {
      report = compileReport(entry.split.head!, profile);
      entry.reports.set(key, report);
      this.#count('reports', {
        type: 'report',
        model: entry.model.sha256,
        k: entry.k,
        profile: profile.name,
      });
    }
    return report;
  }

  /** The bytes of a part, written once per entry; at an end the model's own bytes (served exactly as given). */
  #partBytes(entry: SplitEntry, side: 'head' | 'tail'): Uint8Array | null {
    const cached = entry[side];
    if (cached !== undefined) return cached;
    const part = entry.split[side];
    const bytes = part === null ? null : part === entry.model.model ? entry.model.bytes : writeModel(part);
    entry[side] = bytes;
    if (
      bytes !== null &&
      bytes !== entry.model.bytes &&
      this.#variants.get(`${entry.model.sha256}:${entry.k}`) === entry
    ) {
      this.#bytes += bytes.length;
    }
    return bytes;
  }

  /** Bytes an entry's written parts hold (an end's part is its model's bytes: counted with the model). */
  #entryBytes(entry: SplitEntry): number {
    let total = 0;
    for (const b of [entry.head, entry.tail]) if (b != null && b !== entry.model.bytes) total += b.length;
    return total;
  }

  /** Drops least recently used variants, then models, while over `maxBytes`; the most recent of each stays. */
  #trim(): void {
    while (this.#bytes > this.#maxBytes && this.#variants.size > 1) {
      this.#evictVariant(this.#variants.keys().next().value!);
    }
    while (this.#bytes > this.#maxBytes && this.#models.size > 1) {
      this.#evictModel(this.#models.keys().next().value!);
    }
  }

  #evictVariant(key: string): void {
    const entry = this.#variants.get(key)!;
    this.#variants.delete(key);
    this.#bytes -= this.#entryBytes(entry);
    this.#count('evictions', { type: 'evict', model: entry.model.sha256, k: entry.k });
  }

  #evictModel(hash: string): void {
    const model = this.#models.get(hash)!;
    this.#models.delete(hash);
    this.#bytes -= model.bytes.length;
    for (const [key, entry] of this.#variants) {
      if (entry.model.sha256 === hash) {
        this.#variants.delete(key);
        this.#bytes -= this.#entryBytes(entry);
      }
    }
    this.#count('evictions', { type: 'evict', model: hash, k: null });
  }

  #count(counter: Counter, event: VariantStoreEvent): void {
    this.#counts[counter]++;
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch {
      // A listener must not break the work it watches.
    }
  }
}

/** A compiled model runs only whole (k = n, the file as given is the head) and only on a real Edge TPU. */
function checkCompiled(model: StoredModel, k: number, profile: DeviceProfile | null): void {
  if (profile !== null) {
    throw new UnsupportedModelError(
      'Expected an uncompiled model for the emulated Edge TPU but received a model compiled by edgetpu_compiler: ' +
        'give the .tflite that was passed to edgetpu_compiler, or serve it on a real Edge TPU',
    );
  }
  if (k !== model.n) {
    throw new InvalidCutError(
      expected(`cut ${model.n} (a compiled model runs whole on the Edge TPU)`, 'a compiled model', k),
    );
  }
}

let shared: VariantStore | undefined;

/**
 * The process-wide store that callers use when they are given none: the controller's catalogues, the runtime and
 * the service then share one split per (model, k) without being wired together.
 */
export function defaultVariantStore(): VariantStore {
  shared ??= new VariantStore();
  return shared;
}
