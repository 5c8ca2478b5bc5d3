/**
 * The latency-model registry: built-in models by name, plugin packages by specifier, priority order, lazy
 * initialisation (nothing is imported until a model is asked for; each result is cached) and one aggregated
 * error when none of the candidates loads. The same shape serves backends and controller policies later
 * (DESIGN.md "Plugins").
 */

import type { JsonSchema, LatencyModel, LatencyModelFactory, PluginManifest } from '@swapless/contracts';
import {
  describeValue,
  expected,
  InvalidArgumentError,
  InvalidConfigError,
  isSwapLessError,
} from '@swapless/core';
import { discoverPlugins } from './discover.js';
import {
  guardLatencyModel,
  type LatencyModelIdentity,
  latencyModelLabel,
  queueingPackage,
  quickCheckLatencyModel,
} from './guard.js';
import {
  instantiate,
  isPathSpecifier,
  type LoadPluginOptions,
  loadPlugin,
  locatePlugin,
  validatePluginOptions,
} from './loader.js';
import { createDefaultModel, DEFAULT_MODEL_NAME, DEFAULT_MODEL_OPTIONS_SCHEMA } from './model.js';

/**
 * How a configuration names a model: a registered name (`'mg1-default'`), a plugin package name or path
 * (`'@acme/latency-model-x'`, `'./plugins/x'`), or either with options: `[nameOrSpecifier, options]`.
 */
export type LatencyModelSpec = string | readonly [nameOrSpecifier: string, options?: Record<string, unknown>];

/** Names of the models every registry from {@link createLatencyModelRegistry} knows without loading anything. */
export const BUILTIN_LATENCY_MODELS = [DEFAULT_MODEL_NAME] as const;

/** A model the registry produced, and where it came from. */
export interface ResolvedLatencyModel extends LatencyModelIdentity {
  /**
   * The model instance (cached: the same spec gives the same instance), guarded: it passed the quick conformance
   * checks when it was created, and every prediction it returns is checked (`guardLatencyModel`).
   */
  readonly model: LatencyModel;
  /** How outputs name it: `mg1-switchover (@swapless/latency-model-switchover@0.1.0)`. */
  readonly label: string;
  /** Registered name, or the plugin's manifest name. */
  readonly name: string;
  /** `builtin` for factories registered in code, `plugin` for packages loaded through their manifest. */
  readonly kind: 'builtin' | 'plugin';
  /** The options the factory received (validated, defaults applied). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The plugin's manifest, for `kind: 'plugin'`. */
  readonly manifest?: Readonly<PluginManifest>;
  /** The plugin's package directory, for `kind: 'plugin'`. */
  readonly dir?: string;
}

/** A registry entry as {@link LatencyModelRegistry.list} shows it. */
export interface RegistryEntry {
  readonly name: string;
  readonly kind: 'builtin' | 'plugin';
  /** Higher first; ties keep registration order. */
  readonly priority: number;
  readonly description?: string;
  /** The package name or path, for plugins. */
  readonly specifier?: string;
}

/** Options of {@link LatencyModelRegistry.register}. */
export interface RegisterOptions {
  /** Higher is tried first when no candidates are given (default 0). */
  priority?: number;
  /** JSON Schema the options are validated against (defaults applied) before the factory runs. */
  optionsSchema?: JsonSchema;
  /** One line for listings. */
  description?: string;
  /** The npm package the factory comes from, for labels (default none: the model is labelled "built-in"). */
  package?: string;
  /** That package's version. */
  version?: string;
}

/** Options of {@link LatencyModelRegistry.registerPlugin}. */
export interface RegisterPluginOptions {
  /** Higher is tried first when no candidates are given (default 0). */
  priority?: number;
  /** Options passed when the entry is resolved by name without options of its own. */
  options?: Record<string, unknown>;
  /** Name to register under (default: the specifier). */
  name?: string;
}

/** Options of {@link createLatencyModelRegistry}. */
export interface RegistryOptions extends LoadPluginOptions {
  /** Register the built-in models (default true). */
  builtins?: boolean;
}

type Entry =
  | {
      kind: 'builtin';
      name: string;
      priority: number;
      order: number;
      factory: LatencyModelFactory;
      optionsSchema?: JsonSchema;
      description?: string;
      package?: string;
      version?: string;
    }
  | {
      kind: 'plugin';
      name: string;
      priority: number;
      order: number;
      specifier: string;
      options: Record<string, unknown>;
    };

function stableKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableKey).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableKey((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'undefined';
}

function parseSpec(
  spec: unknown,
  where: string,
): { id: string; options: Record<string, unknown> | undefined } {
  if (typeof spec === 'string' && spec.length > 0) return { id: spec, options: undefined };
  if (Array.isArray(spec) && spec.length >= 1 && spec.length <= 2 && typeof spec[0] === 'string' && spec[0]) {
    const options = spec[1] as unknown;
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options)))
      throw new InvalidArgumentError(expected('an options object or undefined', `${where}[1]`, options));
    return { id: spec[0], options: options as Record<string, unknown> | undefined };
  }
  throw new InvalidArgumentError(
    expected('a model name, a plugin specifier, or [nameOrSpecifier, options]', where, spec),
  );
}

/**
 * A set of latency models by name. Built-ins are factories registered in code; plugins are packages loaded
 * through their manifest on first use. Every resolution is cached by (name or specifier, options), failures
 * included, so a plugin's entry is imported at most once per registry and a broken one is not retried on
 * every call.
 */
export class LatencyModelRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #cache = new Map<string, Promise<ResolvedLatencyModel>>();
  readonly #baseDir: string | undefined;
  #order = 0;

  /** An empty registry; {@link createLatencyModelRegistry} gives one with the built-ins. */
  constructor(options: LoadPluginOptions = {}) {
    this.#baseDir = options.baseDir;
  }

  /** Registers a model factory under `name` (replacing an entry of the same name). */
  register(name: string, factory: LatencyModelFactory, options: RegisterOptions = {}): this {
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidArgumentError(expected('a non-empty string', 'the model name', name));
    if (typeof factory !== 'function')
      throw new InvalidArgumentError(
        expected('a LatencyModelFactory function', `the factory of ${name}`, factory),
      );
    const entry: Entry = {
      kind: 'builtin',
      name,
      factory,
      priority: checkPriority(options.priority, name),
      order: this.#order++,
    };
    if (options.optionsSchema !== undefined) entry.optionsSchema = options.optionsSchema;
    if (options.description !== undefined) entry.description = options.description;
    if (options.package !== undefined) entry.package = options.package;
    if (options.version !== undefined) entry.version = options.version;
    this.#entries.set(name, entry);
    this.#forget(name);
    return this;
  }

  /**
   * Registers a plugin package (name or path) without touching it: its manifest is read and its entry
   * imported only when the entry is first resolved.
   */
  registerPlugin(specifier: string, options: RegisterPluginOptions = {}): this {
    if (typeof specifier !== 'string' || specifier.length === 0)
      throw new InvalidArgumentError(expected('a package name or a path', 'the plugin specifier', specifier));
    const name = options.name ?? specifier;
    this.#entries.set(name, {
      kind: 'plugin',
      name,
      specifier,
      options: options.options ?? {},
      priority: checkPriority(options.priority, name),
      order: this.#order++,
    });
    this.#forget(name);
    return this;
  }

  /** True when `name` is registered. */
  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Registered entries, highest priority first (ties in registration order). */
  list(): RegistryEntry[] {
    return [...this.#entries.values()]
      .sort((a, b) => b.priority - a.priority || a.order - b.order)
      .map((e) => {
        const out: { -readonly [K in keyof RegistryEntry]: RegistryEntry[K] } = {
          name: e.name,
          kind: e.kind,
          priority: e.priority,
        };
        if (e.kind === 'builtin' && e.description !== undefined) out.description = e.description;
        if (e.kind === 'plugin') out.specifier = e.specifier;
        return out;
      });
  }

  /**
   * Resolves one spec (see {@link LatencyModelSpec}): a registered name first, otherwise a plugin package
   * name or path. Cached. Throws the specific error: {@link InvalidConfigError} (`SWAPLESS_INVALID_CONFIG`) for
   * a plugin or options that fail their checks, {@link InvalidArgumentError} for a malformed spec.
   */
  load(spec: LatencyModelSpec): Promise<ResolvedLatencyModel> {
    let parsed: ReturnType<typeof parseSpec>;
    try {
      parsed = parseSpec(spec, 'the latency model spec');
    } catch (err) {
      return Promise.reject(err);
    }
    const { id, options } = parsed;
    const key = `${id}\u0000${stableKey(options ?? null)}`;
    let p = this.#cache.get(key);
    if (p === undefined) {
      p = this.#create(id, options);
      // Keep the rejected promise too (a failure is cached), but never as an unhandled rejection.
      p.catch(() => {});
      this.#cache.set(key, p);
    }
    return p;
  }

  /**
   * The first candidate that loads, in the order given (the configuration's own priority); without
   * candidates, every registered entry in priority order. When none loads, throws ONE
   * {@link InvalidConfigError} (`SWAPLESS_INVALID_CONFIG`) whose `problems` hold one line per candidate,
   * `/<index> <candidate>: <why>`, and whose `details.failures` hold each candidate's error code and message.
   */
  async resolve(candidates?: readonly LatencyModelSpec[]): Promise<ResolvedLatencyModel> {
    if (candidates !== undefined && !Array.isArray(candidates))
      throw new InvalidArgumentError(
        expected('an array of latency model specs', 'the candidates', candidates),
      );
    const list: readonly LatencyModelSpec[] = candidates ?? this.list().map((e) => e.name);
    if (list.length === 0)
      throw new InvalidConfigError(expected('at least one latency model candidate', 'the registry', list), [
        '/: no candidates and nothing registered',
      ]);
    const failures: { candidate: string; code: string | undefined; message: string }[] = [];
    const causes: unknown[] = [];
    for (const spec of list) {
      try {
        return await this.load(spec);
      } catch (err) {
        const candidate = Array.isArray(spec)
          ? String(spec[0])
          : typeof spec === 'string'
            ? spec
            : describeValue(spec);
        failures.push({
          candidate,
          code: isSwapLessError(err) ? err.code : undefined,
          message: (err as Error)?.message ?? String(err),
        });
        causes.push(err);
      }
    }
    const problems = failures.map(
      (f, i) => `/${i} ${f.candidate}: ${f.code ? `${f.code}: ` : ''}${f.message.replace(/\n\s*/g, ' ')}`,
    );
    throw new InvalidConfigError(
      `Expected at least one loadable latency model for the candidates but received ${list.length} that all failed:\n  ${problems.join('\n  ')}`,
      problems,
      { cause: new AggregateError(causes, 'every latency model candidate failed'), details: { failures } },
    );
  }

  #forget(name: string): void {
    for (const key of this.#cache.keys()) if (key.startsWith(`${name}\u0000`)) this.#cache.delete(key);
  }

  async #create(id: string, options: Record<string, unknown> | undefined): Promise<ResolvedLatencyModel> {
    const entry = this.#entries.get(id);
    if (entry?.kind === 'builtin') {
      const where = `latency model ${id}`;
      const valid = deepFreeze(validatePluginOptions(entry.optionsSchema, options ?? {}, where));
      const model = instantiate(entry.factory, valid, where);
      return guarded(
        model,
        { package: entry.package ?? null, version: entry.version ?? null },
        {
          name: id,
          kind: 'builtin',
          options: valid,
        },
      );
    }
    const specifier = entry?.kind === 'plugin' ? entry.specifier : await this.#specifierOf(id);
    const opts = options ?? (entry?.kind === 'plugin' ? entry.options : {});
    const loadOptions: LoadPluginOptions = {};
    if (this.#baseDir !== undefined) loadOptions.baseDir = this.#baseDir;
    const loaded = await loadPlugin(specifier, opts, loadOptions);
    return guarded(
      loaded.model,
      { package: loaded.manifest.name, version: loaded.manifest.version },
      {
        name: loaded.manifest.name,
        kind: 'plugin',
        options: loaded.options,
        manifest: loaded.manifest,
        dir: loaded.dir,
      },
    );
  }

  /**
   * What an unregistered id names: a path or an installed package as it is; otherwise the installed plugin
   * package whose model has that id (`mg1-switchover` → the package that makes it). Throws
   * {@link InvalidConfigError} saying what is accepted when nothing matches.
   */
  async #specifierOf(id: string): Promise<string> {
    if (isPathSpecifier(id)) return id;
    const baseDir = this.#baseDir ?? process.cwd();
    const installed = discoverPlugins(baseDir);
    if (installed.some((p) => p.package === id)) return id;
    try {
      // An installed package without a manifest: the loader says what is wrong with it.
      locatePlugin(id, { baseDir });
      return id;
    } catch {
      // Not a package name here: perhaps a model id.
    }
    for (const p of installed) {
      try {
        const resolved = await this.load(p.package);
        if (resolved.id === id) return p.package;
      } catch {
        // A broken installed plugin is not the one asked for; `swapless plugins list` shows why it fails.
      }
    }
    const registered = [...this.#entries.keys()];
    const accepted = [
      `a registered id (${registered.join(', ') || 'none'})`,
      installed.length > 0
        ? `an installed plugin's package name or model id (${installed.map((p) => p.package).join(', ')})`
        : 'an installed plugin package (none found)',
      'or a path to a plugin package (starting with ./, ../ or /)',
    ].join(', ');
    throw new InvalidConfigError(
      `Expected ${accepted} for the latency model but received ${JSON.stringify(id)}`,
      [`/: ${JSON.stringify(id)} is not a registered id, an installed plugin or a path`],
      { details: { id, registered, installed: installed.map((p) => p.package), baseDir } },
    );
  }
}

/** Quick conformance on a fresh model, then the guarded, labelled, frozen resolution. */
function guarded(
  model: LatencyModel,
  from: { package: string | null; version: string | null },
  rest: Omit<ResolvedLatencyModel, 'model' | 'id' | 'package' | 'version' | 'label'>,
): ResolvedLatencyModel {
  const identity: LatencyModelIdentity = { id: model.name, ...from };
  quickCheckLatencyModel(model, identity);
  return Object.freeze({
    ...rest,
    ...identity,
    label: latencyModelLabel(identity),
    model: guardLatencyModel(model, identity),
  });
}

function checkPriority(priority: unknown, name: string): number {
  if (priority === undefined) return 0;
  if (typeof priority !== 'number' || !Number.isFinite(priority))
    throw new InvalidArgumentError(expected('a finite number', `the priority of ${name}`, priority));
  return priority;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * A registry with the built-in models registered ({@link BUILTIN_LATENCY_MODELS}: `mg1-default` at priority
 * 0), resolving plugin package names from `options.baseDir` (default the working directory).
 */
export function createLatencyModelRegistry(options: RegistryOptions = {}): LatencyModelRegistry {
  const registry = new LatencyModelRegistry(
    options.baseDir === undefined ? {} : { baseDir: options.baseDir },
  );
  if (options.builtins !== false) {
    registry.register(DEFAULT_MODEL_NAME, createDefaultModel as LatencyModelFactory, {
      optionsSchema: DEFAULT_MODEL_OPTIONS_SCHEMA as unknown as JsonSchema,
      description:
        'Multi-class M/G/1 Edge TPU with token-switch reloads + per-tenant M/G/1 or M/G/c CPU stages',
      package: queueingPackage().name,
      version: queueingPackage().version,
    });
  }
  return registry;
}
