/**
 * The model repository: a directory with one folder per model, `<root>/<name>/model.tflite` (or the folder's
 * single `*.tflite`) and an optional `<root>/<name>/config.json` (`{ rate?, sloMs?, description? }`). What a
 * server registers tenants from, next to the zoo's generated models.
 *
 * Nothing read from it may escape the root: names are checked against one pattern (no separators, no leading
 * dot, so no `..`), and every folder and file goes through @swapless/core's confined reads — resolved with every
 * link followed, it must stay under the root's realpath, be a regular file (a FIFO, socket, device or directory is
 * refused by its type, never opened) under a size cap, and be read within a deadline. Messages name entries and
 * repository-relative files only, never host paths: they reach HTTP clients. A malformed model or config is
 * reported as skipped with a reason by
 * `scan()` and as a typed error by `resolveModel()`; neither ever crashes the caller. With a `vet` hook, every new
 * or changed model that reads cleanly is vetted (loaded and run once in a child process) before it counts as
 * usable; one that fails it is listed as rejected with the reason. Entries are read and vetted concurrently (the
 * vetter bounds how many vetting processes run); `scan({ wait: false })` does not wait for vetting and lists the
 * models still being vetted as pending.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MODEL_NAME_PATTERN } from '@swapless/contracts';
import {
  type ConfinedPath,
  DEFAULT_CONFINED_READ_TIMEOUT_MS,
  ErrorCodes,
  expected,
  ForbiddenPathError,
  InvalidArgumentError,
  InvalidConfigError,
  InvalidModelError,
  inspectConfinedFile,
  isSwapLessError,
  ModelRejectedError,
  readConfinedFile,
  resolveConfined,
  SwapLessIoError,
} from '@swapless/core';
import { readModel } from '@swapless/tflite';
import { generateZooModel, isZooModelName, ZOO_MODEL_NAMES } from '@swapless/zoo';
import { Ajv } from 'ajv';

/** The optional per-model `config.json`. */
export interface RepositoryModelConfig {
  /** Prior request rate of a tenant registered from this model, req/s. */
  rate?: number;
  /** Latency objective, ms. */
  sloMs?: number;
  /** Free text for listings. */
  description?: string;
}

/** JSON Schema of `config.json`. */
export const REPOSITORY_MODEL_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rate: { type: 'number', exclusiveMinimum: 0, maximum: 1e6 },
    sloMs: { type: 'number', exclusiveMinimum: 0 },
    description: { type: 'string', maxLength: 1000 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validateConfig = ajv.compile<RepositoryModelConfig>(REPOSITORY_MODEL_CONFIG_SCHEMA);

/** A usable model found in the repository. */
export interface RepositoryModel {
  /** Folder name = model name. */
  name: string;
  /** Real path of its .tflite file. */
  path: string;
  /** File size, bytes. */
  size: number;
  /** SHA-256 of the file, lowercase hex. */
  sha256: string;
  /** Its config.json (empty when absent). */
  config: RepositoryModelConfig;
}

/** An entry of the repository that was not usable, and why. */
export interface SkippedModel {
  /** Entry name as found on disk. */
  name: string;
  /**
   * Stable error code (`SWAPLESS_INVALID_MODEL`, `SWAPLESS_INVALID_CONFIG`, `SWAPLESS_FORBIDDEN_PATH`,
   * `SWAPLESS_INVALID_ARGUMENT`, …).
   */
  code: string;
  /** Why, naming the entry and repository-relative files only (no host path): safe to send to clients. */
  message: string;
  /**
   * The underlying error, with host paths in its details, for logs. Not enumerable, so JSON bodies built from a
   * scan never include it.
   */
  readonly cause?: unknown;
}

/** A model that reads cleanly but failed vetting (it crashed, hung or exhausted the vetting process). */
export interface RejectedModel {
  /** Entry name as found on disk. */
  name: string;
  /** Always `SWAPLESS_MODEL_REJECTED`. */
  code: string;
  /** Why, in a few words: `signal SIGSEGV`, `timeout after 30000 ms`, … */
  reason: string;
  message: string;
  /** SHA-256 of the file, lowercase hex. */
  sha256: string;
  /**
   * True when the verdict depends on the machine's load or the limits (a timeout, the memory limit) rather than
   * on the model alone: resolving the model (a registration) vets it again; scans list it as it is.
   */
  retryable: boolean;
}

/** A model that reads cleanly and is being vetted (only listed by `scan({ wait: false })`). */
export interface PendingModel {
  /** Entry name as found on disk. */
  name: string;
  /** SHA-256 of the file, lowercase hex. */
  sha256: string;
}

/** Options of {@link ModelRepository.scan}. */
export interface ScanOptions {
  /**
   * Wait for the vetting of new and changed models (default true). `false` lists them under `pending` and lets
   * their vetting go on: a later scan (or `resolveModel`) has the verdict.
   */
  wait?: boolean;
}

/** What {@link ModelRepository.scan} found. */
export interface ScanResult {
  /** Usable models, by name. */
  models: RepositoryModel[];
  /** Unusable entries (malformed, bad config, bad name…), by name. */
  skipped: SkippedModel[];
  /** Models refused by vetting, by name (always empty without a `vet` hook). */
  rejected: RejectedModel[];
  /** Models still being vetted, by name (only with `wait: false`). */
  pending: PendingModel[];
}

/** A model reference resolved to bytes. */
export interface ResolvedModel {
  /** The reference (repository or zoo name). */
  name: string;
  /** Where the bytes came from. */
  source: `repository:${string}` | `zoo:${string}`;
  /** The .tflite bytes (verified by readModel). */
  bytes: Uint8Array;
  /** The repository config (empty for zoo models). */
  config: RepositoryModelConfig;
}

/** Options of {@link ModelRepository}. */
export interface ModelRepositoryOptions {
  /** The repository directory; `null` for none (zoo only). A missing directory is an empty repository. */
  root: string | null;
  /** Resolve zoo names (default true). */
  zoo?: boolean;
  /** Largest model file accepted, bytes (default {@link DEFAULT_MAX_MODEL_BYTES}: 256 MiB). */
  maxModelBytes?: number;
  /**
   * Largest other file of an entry accepted (`config.json`, and any other file read later), bytes (default
   * {@link DEFAULT_MAX_FILE_BYTES}: 1 MiB).
   */
  maxFileBytes?: number;
  /** Deadline of each file read, ms (default 30000). A read that takes longer fails the entry as an I/O error. */
  readTimeoutMs?: number;
  /**
   * Vets a new or changed model that read cleanly (e.g. `service.vet`); it throws `ModelRejectedError` or another
   * typed error to refuse it. Called once per content of an entry: results are kept until the file changes, except
   * failures that say nothing about the model (it could not run: tried again on the next scan) and rejections with
   * `details.cacheable: false` (a timeout, a memory kill: vetted again when the model is resolved).
   */
  vet?: (bytes: Uint8Array, name: string) => Promise<unknown>;
}

/** Default {@link ModelRepositoryOptions.maxModelBytes}: 256 MiB. */
export const DEFAULT_MAX_MODEL_BYTES = 256 * 1024 * 1024;
/** Default {@link ModelRepositoryOptions.maxFileBytes}: 1 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** One repository entry as last read: its files' identity, and its outcome (known at once, or once vetted). */
interface Entry {
  /** Real paths, inodes, sizes and mtimes of the folder, the model file and the config. */
  identity: string;
  /** The file read and checked, before vetting: a model, or why the entry was skipped. */
  read: Promise<Loaded>;
  /** The outcome, vetting included. Never rejects. */
  settled: Promise<Loaded>;
  /** `settled`'s value once it has settled. */
  result?: Loaded;
}

type Loaded =
  | { model: RepositoryModel; bytes: Uint8Array }
  | { skipped: SkippedModel }
  | { rejected: RejectedModel };

/** Failures that say nothing about the model (the vetting process could not start): tried again next time. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([ErrorCodes.IO, ErrorCodes.NATIVE_LOAD]);

function transient(result: Loaded): boolean {
  return 'skipped' in result && TRANSIENT_CODES.has(result.skipped.code);
}

function errorInfo(err: unknown): { code: string; message: string } {
  if (isSwapLessError(err)) return { code: err.code, message: err.message };
  return { code: ErrorCodes.INTERNAL, message: err instanceof Error ? err.message : String(err) };
}

/** A skipped entry; `cause` (host paths and all, for logs) is kept out of its JSON. */
function skipped(name: string, code: string, message: string, cause?: unknown): Loaded {
  const s: SkippedModel = { name, code, message };
  if (cause !== undefined) Object.defineProperty(s, 'cause', { value: cause, enumerable: false });
  return { skipped: s };
}

/** A file's identity for the entry cache. */
function identity(f: ConfinedPath | null): string {
  if (f === null) return '-';
  const { dev, ino, size, mtimeMs } = f.stats;
  return `${f.path}:${dev}:${ino}:${size}:${mtimeMs}`;
}

/** Where a JSON parse failed, without quoting the text (it could be any file's content). */
function parsePosition(err: unknown): string {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  return m === null ? '' : ` (at character ${m[1]})`;
}

function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new InvalidArgumentError(expected('a positive integer', what, value));
  return value;
}

/**
 * A model repository directory plus the zoo. `scan()` lists what is usable (and what was skipped, with
 * reasons); `resolveModel(ref)` turns a repository name, else a zoo name, into verified model bytes.
 * Repository entries are re-read only when their file changes (size or mtime); zoo models are generated once
 * (cached on disk by @swapless/zoo, in memory here).
 */
export class ModelRepository {
  /** Absolute repository directory, or null. */
  readonly root: string | null;
  private readonly zoo: boolean;
  private readonly maxModelBytes: number;
  private readonly maxFileBytes: number;
  private readonly readTimeoutMs: number;
  private readonly vet: ModelRepositoryOptions['vet'];
  private readonly entries = new Map<string, Entry>();
  private readonly zooCache = new Map<string, Promise<Uint8Array>>();

  constructor(options: ModelRepositoryOptions) {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError(expected('an options object', 'ModelRepository', options));
    const { root } = options;
    if (root !== null && (typeof root !== 'string' || root.length === 0))
      throw new InvalidArgumentError(expected('a directory path or null', 'repository root', root));
    this.root = root === null ? null : resolve(root);
    this.zoo = options.zoo ?? true;
    this.maxModelBytes = positiveInteger(options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES, 'maxModelBytes');
    this.maxFileBytes = positiveInteger(options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, 'maxFileBytes');
    this.readTimeoutMs = positiveInteger(
      options.readTimeoutMs ?? DEFAULT_CONFINED_READ_TIMEOUT_MS,
      'readTimeoutMs',
    );
    if (options.vet !== undefined && typeof options.vet !== 'function')
      throw new InvalidArgumentError(expected('a function', 'the repository vet hook', options.vet));
    this.vet = options.vet;
  }

  /** Zoo model names resolvable here (empty when the zoo is off). */
  zooNames(): string[] {
    return this.zoo ? [...ZOO_MODEL_NAMES] : [];
  }

  /**
   * Reads the repository: every folder with a usable model, every entry that is not usable with the reason
   * (bad name, no or several .tflite files, malformed model, bad config.json, path escaping the root), and every
   * model refused by the `vet` hook with its reason; with `{ wait: false }`, the models still being vetted under
   * `pending` instead of waiting for them. Entries are read and vetted concurrently. Hidden entries (leading dot)
   * are ignored. A missing root is an empty repository; an unreadable one throws SwapLessIoError.
   */
  async scan(options: ScanOptions = {}): Promise<ScanResult> {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError(expected('an options object', 'the scan options', options));
    }
    if (options.wait !== undefined && typeof options.wait !== 'boolean') {
      throw new InvalidArgumentError(expected('a boolean', 'the scan option wait', options.wait));
    }
    const wait = options.wait ?? true;
    const rootReal = await this.rootReal();
    if (rootReal === null) return { models: [], skipped: [], rejected: [], pending: [] };
    let names: string[];
    try {
      names = (await readdir(rootReal)).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      throw new SwapLessIoError(
        `Expected a readable model repository but listing it failed (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`,
        { cause: err, details: { path: rootReal } },
      );
    }
    const models: RepositoryModel[] = [];
    const skipped: SkippedModel[] = [];
    const rejected: RejectedModel[] = [];
    const pending: PendingModel[] = [];
    // All at once: a cold start is not one vetting process after another (the vetter bounds how many run).
    const results = await Promise.all(
      names.map(async (name) => {
        const e = await this.entry(rootReal, name, false);
        return 'settled' in e ? (wait ? e.settled : this.peek(name, e)) : e;
      }),
    );
    for (const r of results) {
      if ('skipped' in r) skipped.push(r.skipped);
      else if ('rejected' in r) rejected.push(r.rejected);
      else if ('pending' in r) pending.push(r.pending);
      else models.push(r.model);
    }
    for (const key of [...this.entries.keys()]) if (!names.includes(key)) this.entries.delete(key);
    return { models, skipped, rejected, pending };
  }

  /**
   * Resolves a model reference: a repository model of that name, else a zoo model name. Throws
   * InvalidArgumentError (`details.reason`: `invalid-name` for a name that is not a plain model name — path
   * separators, `..`, too long —, `unknown-model` when neither has it: the reference is an argument of the caller,
   * e.g. of a tenant registration, so a name that exists nowhere is a bad request, not a missing resource, and
   * deliberately not a NotFoundError), InvalidModelError / InvalidConfigError /
   * UnsupportedModelError when the repository's entry is malformed, ModelRejectedError when it failed vetting.
   * A model being vetted is waited for; one whose last rejection depended on the machine (`retryable`: a timeout,
   * a memory kill) is vetted again.
   */
  async resolveModel(ref: string): Promise<ResolvedModel> {
    if (typeof ref !== 'string' || !MODEL_NAME_PATTERN.test(ref)) {
      throw new InvalidArgumentError(
        expected(
          `a model name matching ${MODEL_NAME_PATTERN.source} (a repository folder or a zoo name)`,
          'model',
          ref,
        ),
        { details: { reason: 'invalid-name', model: ref } },
      );
    }
    const rootReal = await this.rootReal();
    // lstat: a link that leads nowhere (or outside) is still this repository's entry, refused as such.
    if (rootReal !== null && (await this.exists(join(rootReal, ref)))) {
      const e = await this.entry(rootReal, ref, true);
      const r = 'settled' in e ? await e.settled : e;
      if ('skipped' in r) throw this.rethrow(r.skipped);
      if ('rejected' in r) {
        const { name, reason, sha256 } = r.rejected;
        throw new ModelRejectedError(r.rejected.message, { details: { reason, model: name, sha256 } });
      }
      return { name: ref, source: `repository:${ref}`, bytes: r.bytes, config: r.model.config };
    }
    if (this.zoo && isZooModelName(ref)) {
      let pending = this.zooCache.get(ref);
      if (pending === undefined) {
        pending = generateZooModel(ref).then(async (g) => new Uint8Array(await readFile(g.path)));
        // A failed generation is not cached: the next call tries again.
        pending.catch(() => this.zooCache.delete(ref));
        this.zooCache.set(ref, pending);
      }
      return { name: ref, source: `zoo:${ref}`, bytes: await pending, config: {} };
    }
    const where = this.zoo ? 'the repository or the zoo' : 'the repository';
    throw new InvalidArgumentError(
      `Expected a model in ${where} for model but received ${JSON.stringify(ref)} (no such model)`,
      { details: { reason: 'unknown-model', model: ref } },
    );
  }

  private rethrow(s: SkippedModel): Error {
    const details = { reason: 'invalid-entry', model: s.name };
    const options = s.cause === undefined ? { details } : { details, cause: s.cause };
    switch (s.code) {
      case ErrorCodes.INVALID_CONFIG:
        return new InvalidConfigError(s.message, [s.message], options);
      case ErrorCodes.INVALID_ARGUMENT:
        return new InvalidArgumentError(s.message, options);
      case ErrorCodes.IO:
        return new SwapLessIoError(s.message, options);
      case ErrorCodes.FORBIDDEN_PATH: {
        // The confinement's own reason (`outside-root`, `not-a-file`, `too-large`, `unresolvable`).
        const reason = isSwapLessError(s.cause) ? s.cause.details.reason : undefined;
        return new ForbiddenPathError(s.message, {
          ...options,
          details: { ...details, reason: typeof reason === 'string' ? reason : details.reason },
        });
      }
      default:
        return new InvalidModelError(s.message, { ...options, details: { ...details, code: s.code } });
    }
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await lstat(path);
      return true;
    } catch {
      return false;
    }
  }

  private async rootReal(): Promise<string | null> {
    if (this.root === null) return null;
    try {
      return await realpath(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SwapLessIoError(
        `Expected a readable model repository but resolving it failed (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`,
        { cause: err, details: { path: this.root } },
      );
    }
  }

  /**
   * One entry: the one kept while its files are unchanged, else read (and vetted) afresh; or why it is skipped
   * before anything is read. The confinement checks (inside the root, regular file, size) run on every call, cached
   * or not. `retry` reads again a model whose last rejection was `retryable`.
   */
  private async entry(rootReal: string, name: string, retry: boolean): Promise<Entry | Loaded> {
    if (!MODEL_NAME_PATTERN.test(name)) {
      return skipped(
        name,
        ErrorCodes.INVALID_ARGUMENT,
        expected(`a folder name matching ${MODEL_NAME_PATTERN.source}`, 'repository entry', name),
      );
    }
    const timeoutMs = this.readTimeoutMs;
    try {
      const dir = await resolveConfined(rootReal, name, { timeoutMs });
      if (!dir.stats.isDirectory()) {
        return skipped(
          name,
          ErrorCodes.INVALID_MODEL,
          `Expected a folder <name>/model.tflite for repository entry ${name} but received a file (move it to ${name.replace(/\.tflite$/, '')}/model.tflite)`,
        );
      }
      const files = (await readdir(dir.path))
        .filter((f) => f.endsWith('.tflite') && !f.startsWith('.'))
        .sort();
      const file = files.includes('model.tflite')
        ? 'model.tflite'
        : files.length === 1
          ? files[0]!
          : undefined;
      if (file === undefined) {
        return skipped(
          name,
          ErrorCodes.INVALID_MODEL,
          `Expected model.tflite or exactly one *.tflite file in repository folder ${name} but found ${files.length === 0 ? 'none' : files.join(', ')}`,
        );
      }
      const modelFile = `${name}/${file}`;
      const model = await inspectConfinedFile(rootReal, modelFile, {
        maxBytes: this.maxModelBytes,
        timeoutMs,
      });
      // Present as anything at all (a dangling link too) means it must pass the checks; absent means no config.
      const configFile = `${name}/config.json`;
      const hasConfig = await lstat(join(dir.path, 'config.json')).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return false;
          throw err;
        },
      );
      const config = hasConfig
        ? await inspectConfinedFile(rootReal, configFile, { maxBytes: this.maxFileBytes, timeoutMs })
        : null;
      const id = `${identity(dir)}|${identity(model)}|${identity(config)}`;
      const cached = this.entries.get(name);
      const again =
        retry &&
        cached?.result !== undefined &&
        'rejected' in cached.result &&
        cached.result.rejected.retryable;
      if (cached !== undefined && cached.identity === id && !again) return cached;
      return this.start(name, id, rootReal, modelFile, hasConfig ? configFile : null);
    } catch (err) {
      return this.failed(name, err);
    }
  }

  /** An entry's outcome if known, else `pending` once its file has been read (vetting goes on). */
  private async peek(name: string, entry: Entry): Promise<Loaded | { pending: PendingModel }> {
    if (entry.result !== undefined) return entry.result;
    const read = await entry.read;
    if (!('model' in read)) return read;
    return entry.result ?? { pending: { name, sha256: read.model.sha256 } };
  }

  /**
   * Why an entry could not be read, as a skip. A SwapLess error's message is path-free already; anything else (a
   * file-system error, whose message holds host paths) is an I/O problem named by its errno code, tried again next
   * time. The error itself is kept as the skip's `cause`, for logs.
   */
  private failed(name: string, err: unknown): Loaded {
    if (isSwapLessError(err)) return skipped(name, err.code, err.message, err);
    const code = (err as NodeJS.ErrnoException | null)?.code ?? 'unknown error';
    return skipped(
      name,
      ErrorCodes.IO,
      `Expected a readable repository entry ${name} but reading it failed (${code})`,
      err,
    );
  }

  /**
   * Reads and vets an entry afresh, remembered for the next loads. An outcome that says nothing about the model
   * (it could not be read or vetted for reasons of this machine) is forgotten once known, so the next load tries
   * again.
   */
  private start(
    name: string,
    id: string,
    rootReal: string,
    modelFile: string,
    configFile: string | null,
  ): Entry {
    const read = this.read(name, rootReal, modelFile, configFile).catch((err: unknown) =>
      this.failed(name, err),
    );
    const settled = read.then((r) => ('model' in r ? this.vetted(r) : r));
    const entry: Entry = { identity: id, read, settled };
    this.entries.set(name, entry);
    void settled.then((result) => {
      if (this.entries.get(name) !== entry) return;
      if (transient(result)) this.entries.delete(name);
      else entry.result = result;
    });
    return entry;
  }

  /** Reads an entry's config and model through the confined reader, and checks both. */
  private async read(
    name: string,
    rootReal: string,
    modelFile: string,
    configFile: string | null,
  ): Promise<Loaded> {
    const timeoutMs = this.readTimeoutMs;
    let config: RepositoryModelConfig = {};
    if (configFile !== null) {
      const { bytes: raw } = await readConfinedFile(rootReal, configFile, {
        maxBytes: this.maxFileBytes,
        timeoutMs,
      });
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
      } catch (err) {
        // Never quote the text: the message goes to clients, and the file could hold anything.
        return skipped(
          name,
          ErrorCodes.INVALID_CONFIG,
          `Expected JSON in ${configFile} but it is not valid ${err instanceof SyntaxError ? `JSON${parsePosition(err)}` : 'UTF-8 text'}`,
        );
      }
      if (!validateConfig(parsed)) {
        const problems = (validateConfig.errors ?? []).map(
          (e) =>
            `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` (${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)})` : ''}`,
        );
        return skipped(
          name,
          ErrorCodes.INVALID_CONFIG,
          `Expected { rate?, sloMs?, description? } in ${configFile} but: ${problems.join('; ')}`,
        );
      }
      config = parsed;
    }
    const { path, bytes } = await readConfinedFile(rootReal, modelFile, {
      maxBytes: this.maxModelBytes,
      timeoutMs,
    });
    try {
      readModel(bytes);
    } catch (err) {
      const { code, message } = errorInfo(err);
      return skipped(
        name,
        code === ErrorCodes.INTERNAL ? ErrorCodes.INVALID_MODEL : code,
        `Expected a valid .tflite model in repository entry ${name} but: ${message}`,
      );
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { model: { name, path, size: bytes.byteLength, sha256, config }, bytes };
  }

  /** A model that read cleanly, through the `vet` hook: the same model, rejected, or skipped with the hook's error. */
  private async vetted(loaded: { model: RepositoryModel; bytes: Uint8Array }): Promise<Loaded> {
    if (this.vet === undefined) return loaded;
    const { name, sha256 } = loaded.model;
    try {
      await this.vet(loaded.bytes, name);
      return loaded;
    } catch (err) {
      if (isSwapLessError(err, ErrorCodes.MODEL_REJECTED)) {
        const details = err.details as { reason?: unknown; cacheable?: unknown };
        return {
          rejected: {
            name,
            code: err.code,
            reason: typeof details.reason === 'string' ? details.reason : 'rejected',
            message: err.message,
            sha256,
            retryable: details.cacheable === false,
          },
        };
      }
      const { code, message } = errorInfo(err);
      if (code === ErrorCodes.INTERNAL || TRANSIENT_CODES.has(code)) {
        // The vetting process could not run (its message names host paths: the addon, the child script): say so
        // without them; the cause has them, for the log.
        return skipped(
          name,
          code === ErrorCodes.INTERNAL ? ErrorCodes.IO : code,
          `Expected a model that loads and runs in repository entry ${name} but the vetting process could not run it (${code}; see the server log)`,
          err,
        );
      }
      return skipped(
        name,
        code,
        `Expected a model that loads and runs in repository entry ${name} but: ${message}`,
      );
    }
  }
}
