/**
 * Finding, checking and loading a latency-model plugin package. Order matters and is the point of this file:
 * locate the package → read and validate its manifest (ajv) → check the API range and that the entry stays
 * inside the package → validate the options against the manifest's schema (defaults applied) → only then
 * import the entry. A plugin refused at any step has run none of its code.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  API_VERSION,
  type JsonSchema,
  type LatencyModel,
  type LatencyModelFactory,
  PLUGIN_MANIFEST_FILE,
  PLUGIN_MANIFEST_JSON_SCHEMA,
  type PluginManifest,
} from '@swapless/contracts';
import {
  describeValue,
  expected,
  formatAjvErrors,
  InvalidArgumentError,
  InvalidConfigError,
} from '@swapless/core';
import { Ajv, type ValidateFunction } from 'ajv';
import { isValidRange, satisfies } from './semver.js';

/** A manifest that passed every check, with where it was found. */
export interface CheckedManifest {
  /** The manifest, frozen. */
  readonly manifest: Readonly<PluginManifest>;
  /** The plugin package's directory (symlinks resolved). */
  readonly dir: string;
  /** Absolute path of `swapless-plugin.json`. */
  readonly manifestPath: string;
  /** Absolute path of the entry module, inside `dir`. */
  readonly entryPath: string;
}

/** A loaded plugin: its checked manifest, the validated options (defaults applied) and the model it created. */
export interface LoadedPlugin extends CheckedManifest {
  /** Options as the factory received them, frozen. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The model the plugin's factory returned. */
  readonly model: LatencyModel;
}

/** Where and how to look for plugins. */
export interface LoadPluginOptions {
  /** Directory that package names are resolved from (as if `require`d from a file there) and relative paths against. Default `process.cwd()`. */
  baseDir?: string;
}

let manifestValidator: ValidateFunction | undefined;
function validateManifestSchema(): ValidateFunction {
  manifestValidator ??= new Ajv({ allErrors: true, strict: true }).compile(PLUGIN_MANIFEST_JSON_SCHEMA);
  return manifestValidator;
}

/** True when `specifier` is a path (relative, absolute or file: URL) rather than a package name. */
export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier.startsWith('.') ||
    specifier.startsWith('file:') ||
    isAbsolute(specifier) ||
    /^[A-Za-z]:[\\/]/.test(specifier)
  );
}

/**
 * The directory of a plugin package. A path may name the package directory or its `swapless-plugin.json`; a
 * package name is looked up in the `node_modules` directories Node would search from `baseDir`
 * (`createRequire(baseDir).resolve.paths`). Only the directory is needed, never the package's `exports`
 * (which rightly need not export the manifest), so no module is resolved or loaded.
 * Throws {@link InvalidConfigError} (`SWAPLESS_INVALID_CONFIG`) when nothing is found.
 */
export function locatePlugin(specifier: string, options: LoadPluginOptions = {}): string {
  if (typeof specifier !== 'string' || specifier.length === 0)
    throw new InvalidArgumentError(expected('a package name or a path', 'the plugin specifier', specifier));
  const baseDir = resolve(options.baseDir ?? process.cwd());
  if (isPathSpecifier(specifier)) {
    let p = specifier.startsWith('file:') ? new URL(specifier).pathname : resolve(baseDir, specifier);
    if (existsSync(p) && statSync(p).isFile()) p = dirname(p);
    if (!existsSync(p) || !statSync(p).isDirectory()) {
      throw new InvalidConfigError(
        `Expected a plugin directory for ${JSON.stringify(specifier)} but received a path that does not exist (${p})`,
        [`/: ${p} does not exist`],
        { details: { specifier, baseDir } },
      );
    }
    return realpathSync(p);
  }
  const paths = createRequire(join(baseDir, '__swapless_plugin_resolve__.js')).resolve.paths(specifier) ?? [];
  for (const dir of paths) {
    const candidate = join(dir, specifier);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
  }
  throw new InvalidConfigError(
    `Expected an installed plugin package for ${JSON.stringify(specifier)} but received none resolvable from ${baseDir} (install it, or give a path)`,
    [`/: package ${JSON.stringify(specifier)} not found in ${paths.length} node_modules directories`],
    { details: { specifier, baseDir, searched: paths } },
  );
}

function manifestError(path: string, problems: string[], cause?: unknown): InvalidConfigError {
  return new InvalidConfigError(
    `Expected a valid plugin manifest for ${path} but received one with ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
    problems,
    { cause, details: { manifestPath: path } },
  );
}

/**
 * Reads `swapless-plugin.json` from a plugin directory and checks it: ajv against
 * {@link PLUGIN_MANIFEST_JSON_SCHEMA} (every problem with its JSON path), `apiVersion` a valid range that
 * includes {@link API_VERSION}, `entry` an existing file that stays inside the package after `..` and
 * symlinks are resolved, and `optionsSchema` a JSON Schema ajv can compile. Reads nothing but JSON.
 * Throws {@link InvalidConfigError} (`SWAPLESS_INVALID_CONFIG`) listing every problem.
 */
export function readPluginManifest(dir: string): CheckedManifest {
  const manifestPath = join(dir, PLUGIN_MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw manifestError(manifestPath, [`/: file not found`]);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw manifestError(manifestPath, [`/: not JSON (${(err as Error).message})`], err);
  }
  const validate = validateManifestSchema();
  if (!validate(value)) throw manifestError(manifestPath, formatAjvErrors(validate.errors));
  const manifest = value as PluginManifest;
  const problems: string[] = [];
  if (!isValidRange(manifest.apiVersion)) {
    problems.push(`/apiVersion: ${JSON.stringify(manifest.apiVersion)} is not a semver range`);
  } else if (!satisfies(API_VERSION, manifest.apiVersion)) {
    problems.push(
      `/apiVersion: range ${JSON.stringify(manifest.apiVersion)} does not include this host's latency-model API ${API_VERSION}`,
    );
  }
  const root = realpathSync(dir);
  const entryPath = resolve(root, manifest.entry);
  const inside = (p: string) => {
    const rel = relative(root, p);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  };
  if (!inside(entryPath)) {
    problems.push(`/entry: ${JSON.stringify(manifest.entry)} resolves outside the plugin package`);
  } else if (!existsSync(entryPath) || !statSync(entryPath).isFile()) {
    problems.push(
      `/entry: ${JSON.stringify(manifest.entry)} is not a file in the plugin package (was it built?)`,
    );
  } else if (!inside(realpathSync(entryPath))) {
    problems.push(
      `/entry: ${JSON.stringify(manifest.entry)} is a symlink to a file outside the plugin package`,
    );
  }
  if (manifest.optionsSchema !== undefined) {
    try {
      compileOptionsSchema(manifest.optionsSchema);
    } catch (err) {
      problems.push(`/optionsSchema: not a valid JSON Schema (${(err as Error).message})`);
    }
  }
  if (problems.length > 0) throw manifestError(manifestPath, problems);
  return Object.freeze({
    manifest: deepFreeze(structuredClone(manifest)),
    dir: root,
    manifestPath,
    entryPath: realpathSync(entryPath),
  });
}

function compileOptionsSchema(schema: JsonSchema): ValidateFunction {
  // A fresh instance per schema: plugins' schemas may reuse `$id`s, which one shared instance would refuse.
  return new Ajv({
    allErrors: true,
    useDefaults: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
  }).compile(schema);
}

/**
 * Validates `options` against an options schema with its defaults applied, on a copy. Throws
 * {@link InvalidConfigError} (`SWAPLESS_INVALID_CONFIG`) whose problems carry the ajv paths prefixed with
 * `/options` (e.g. `/options/halfLife: must be >= 1`). No schema → the options must still be an object.
 * @param where names the model in the message.
 */
export function validatePluginOptions(
  schema: JsonSchema | undefined,
  options: unknown,
  where: string,
): Record<string, unknown> {
  const value = options === undefined ? {} : options;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidConfigError(expected('an options object', where, value), [
      `/options: must be object (received ${describeValue(value)})`,
    ]);
  }
  let copy: Record<string, unknown>;
  try {
    copy = structuredClone(value) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidConfigError(
      expected('JSON-like options', where, value),
      ['/options: cannot be copied'],
      {
        cause: err,
      },
    );
  }
  if (schema === undefined) return copy;
  const validate = compileOptionsSchema(schema);
  if (!validate(copy)) {
    // formatAjvErrors writes the root as '/'; under '/options' the root is '/options' itself.
    const problems = formatAjvErrors(validate.errors).map(
      (l) => `/options${l.startsWith('/:') ? l.slice(1) : l}`,
    );
    throw new InvalidConfigError(
      `Expected options matching the plugin's optionsSchema for ${where} but received options with ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
      problems,
    );
  }
  return copy;
}

/** Checks that a factory's return value implements {@link LatencyModel}; returns the problems found. */
export function latencyModelProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null)
    return [`/: expected an object but received ${describeValue(value)}`];
  const m = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof m.name !== 'string' || m.name.length === 0)
    problems.push(`/name: expected a non-empty string but received ${describeValue(m.name)}`);
  if (typeof m.predict !== 'function')
    problems.push(`/predict: expected a function but received ${describeValue(m.predict)}`);
  if (m.fit !== undefined && typeof m.fit !== 'function')
    problems.push(`/fit: expected a function or undefined but received ${describeValue(m.fit)}`);
  return problems;
}

/**
 * Creates a model with a factory and checks the result. Throws {@link InvalidConfigError} when the factory
 * throws or returns something that is not a {@link LatencyModel}; a SwapLess error the factory throws on
 * purpose passes through unchanged.
 */
export function instantiate(
  factory: LatencyModelFactory,
  options: Record<string, unknown>,
  where: string,
): LatencyModel {
  let model: unknown;
  try {
    model = factory(options);
  } catch (err) {
    if (
      typeof (err as { code?: unknown })?.code === 'string' &&
      (err as { code: string }).code.startsWith('SWAPLESS_')
    )
      throw err;
    throw new InvalidConfigError(
      `Expected the factory of ${where} to create a latency model but it threw: ${(err as Error)?.message ?? String(err)}`,
      [`/: factory threw`],
      { cause: err },
    );
  }
  const problems = latencyModelProblems(model);
  if (problems.length > 0) {
    throw new InvalidConfigError(
      `Expected a LatencyModel from the factory of ${where} but received ${describeValue(model)}:\n  ${problems.join('\n  ')}`,
      problems,
    );
  }
  return model as LatencyModel;
}

/**
 * Loads a plugin package: {@link locatePlugin} → {@link readPluginManifest} → {@link validatePluginOptions} →
 * `import()` of the entry → its default export (a {@link LatencyModelFactory}) called with the validated
 * options. Every refusal before the import leaves the plugin's code unrun. Throws {@link InvalidConfigError}
 * (`SWAPLESS_INVALID_CONFIG`) for anything wrong with the plugin, {@link InvalidArgumentError} for a
 * specifier that is not a string.
 */
export async function loadPlugin(
  specifier: string,
  options: Record<string, unknown> = {},
  loadOptions: LoadPluginOptions = {},
): Promise<LoadedPlugin> {
  const dir = locatePlugin(specifier, loadOptions);
  const checked = readPluginManifest(dir);
  const where = `plugin ${checked.manifest.name}`;
  const validOptions = validatePluginOptions(checked.manifest.optionsSchema, options, where);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(checked.entryPath).href)) as { default?: unknown };
  } catch (err) {
    throw new InvalidConfigError(
      `Expected the entry of ${where} (${checked.entryPath}) to import but it threw: ${(err as Error)?.message ?? String(err)}`,
      [`/entry: import failed`],
      { cause: err, details: { entryPath: checked.entryPath } },
    );
  }
  if (typeof mod.default !== 'function') {
    throw new InvalidConfigError(
      expected('a LatencyModelFactory function as the default export', `the entry of ${where}`, mod.default),
      [`/entry: default export is ${describeValue(mod.default)}, not a function`],
      { details: { entryPath: checked.entryPath } },
    );
  }
  const frozenOptions = deepFreeze(validOptions);
  const model = instantiate(mod.default as LatencyModelFactory, frozenOptions, where);
  return Object.freeze({ ...checked, options: frozenOptions, model });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
