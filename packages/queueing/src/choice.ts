/**
 * How hosts (the server's `latencyModel` config key, `ServiceOptions.latencyModel`, the CLI's `--latency-model`
 * and `--latency-model-options`) name a latency model, and its resolution through the registry: one form, one
 * place, the same errors everywhere.
 */

import type { LatencyModel } from '@swapless/contracts';
import { describeValue, expected, InvalidConfigError } from '@swapless/core';
import { guardLatencyModel, latencyModelLabel, quickCheckLatencyModel } from './guard.js';
import { createLatencyModelRegistry, type ResolvedLatencyModel } from './registry.js';

/**
 * A latency model as a configuration names it: an id (`mg1-default`, an installed plugin's model id such as
 * `mg1-switchover`), a plugin package name, or a path to a plugin package — alone, or with options for it.
 */
export type LatencyModelChoice = string | { readonly id: string; readonly options?: Record<string, unknown> };

/** JSON Schema (draft-07) of {@link LatencyModelChoice}, for configuration schemas. */
export const LATENCY_MODEL_CHOICE_SCHEMA = {
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['id'],
      properties: { id: { type: 'string', minLength: 1 }, options: { type: 'object' } },
    },
  ],
} as const;

const WHAT = 'a latency model id, plugin package or path, or { id, options }';

/**
 * The choice two command-line flags make: `--latency-model ID|PATH` and `--latency-model-options JSON` (a JSON
 * object). Undefined when neither is given; options alone apply to the default model. Throws
 * {@link InvalidConfigError} (`SWAPLESS_INVALID_CONFIG`) for options that are not a JSON object.
 */
export function latencyModelChoiceOf(
  id: string | undefined,
  optionsJson: string | undefined,
): LatencyModelChoice | undefined {
  if (id === undefined && optionsJson === undefined) return undefined;
  if (id !== undefined && id.trim() === '')
    throw new InvalidConfigError(expected(WHAT, '--latency-model', id), ['--latency-model: empty']);
  const chosen = id ?? 'mg1-default';
  if (optionsJson === undefined) return chosen;
  let options: unknown;
  try {
    options = JSON.parse(optionsJson);
  } catch (err) {
    throw new InvalidConfigError(
      `Expected a JSON object for --latency-model-options but received text that does not parse (${(err as Error).message})`,
      ['--latency-model-options: not JSON'],
      { cause: err },
    );
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new InvalidConfigError(expected('a JSON object', '--latency-model-options', options), [
      `--latency-model-options: must be an object (received ${describeValue(options)})`,
    ]);
  return { id: chosen, options: options as Record<string, unknown> };
}

/** Options of {@link resolveLatencyModel}. */
export interface ResolveChoiceOptions {
  /** Where package names are looked up and relative paths resolved (default the working directory). */
  baseDir?: string;
}

/** A resolved model without the registry's bookkeeping: what a host keeps. */
export type HostedLatencyModel = Pick<ResolvedLatencyModel, 'model' | 'id' | 'package' | 'version' | 'label'>;

/**
 * Resolves a choice through a registry with the built-ins (default `mg1-default`), or takes a model instance
 * as it is (quick conformance checks, then guarded, labelled "built-in"). Throws {@link InvalidConfigError}
 * (`SWAPLESS_INVALID_CONFIG`) for a malformed choice, an unknown id or path, options its schema refuses, or a
 * model that fails its checks.
 */
export async function resolveLatencyModel(
  choice: LatencyModelChoice | LatencyModel | undefined,
  options: ResolveChoiceOptions = {},
): Promise<HostedLatencyModel> {
  const value = choice ?? 'mg1-default';
  if (typeof value === 'object' && value !== null && typeof (value as LatencyModel).predict === 'function') {
    const model = value as LatencyModel;
    if (typeof model.name !== 'string' || model.name === '')
      throw new InvalidConfigError(expected('a latency model with a name', 'the latency model', model), [
        '/name: must be a non-empty string',
      ]);
    const identity = { id: model.name, package: null, version: null };
    quickCheckLatencyModel(model, identity);
    return { ...identity, label: latencyModelLabel(identity), model: guardLatencyModel(model, identity) };
  }
  let spec: string | [string, Record<string, unknown>];
  if (typeof value === 'string' && value !== '') spec = value;
  else if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { id?: unknown }).id === 'string' &&
    (value as { id: string }).id !== '' &&
    Object.keys(value).every((k) => k === 'id' || k === 'options')
  ) {
    const o = (value as { options?: unknown }).options;
    if (o !== undefined && (typeof o !== 'object' || o === null || Array.isArray(o)))
      throw new InvalidConfigError(expected('an options object', 'the latency model options', o), [
        `/options: must be an object (received ${describeValue(o)})`,
      ]);
    spec = [(value as { id: string }).id, (o as Record<string, unknown> | undefined) ?? {}];
  } else {
    throw new InvalidConfigError(expected(WHAT, 'the latency model', value), [
      `/: ${describeValue(value)} is not a latency model choice`,
    ]);
  }
  const registry = createLatencyModelRegistry(
    options.baseDir === undefined ? {} : { baseDir: options.baseDir },
  );
  const r = await registry.load(spec);
  return { model: r.model, id: r.id, package: r.package, version: r.version, label: r.label };
}
