/**
 * `--latency-model ID|PATH` and `--latency-model-options JSON` of `plan` and `bench`: the same choice as the
 * server's `latencyModel` key, resolved through the registry of `@swapless/queueing` (quick conformance checks at
 * load, every prediction checked), and the one way outputs name the model.
 */
import type { ParseArgsConfig } from 'node:util';
import { type HostedLatencyModel, latencyModelChoiceOf, resolveLatencyModel } from '@swapless/queueing';

/** The two flags, for `parseCommand`. */
export const latencyModelFlags = {
  'latency-model': { type: 'string' },
  'latency-model-options': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Help lines of the two flags (aligned for the commands' option lists). */
export const LATENCY_MODEL_HELP = `  --latency-model M   latency model: mg1-default (default), an installed plugin's model id or package
                      name, or a path to a plugin package (\`swapless plugins list\`; docs/plugins.md)
  --latency-model-options JSON
                      options of that model, a JSON object checked against its options schema`;

/** The model the flags choose (mg1-default without them). SWAPLESS_INVALID_CONFIG for a bad id, path or options. */
export function chosenLatencyModel(values: {
  'latency-model'?: string | undefined;
  'latency-model-options'?: string | undefined;
}): Promise<HostedLatencyModel> {
  return resolveLatencyModel(latencyModelChoiceOf(values['latency-model'], values['latency-model-options']), {
    baseDir: process.cwd(),
  });
}

/**
 * How `--json` outputs name the model (as the server's controller status does): `latencyModel`, its id (the field
 * `plan` always had), and `latencyModelDetails`, `{ id, package, version, label }`.
 */
export function latencyModelJson(m: HostedLatencyModel): {
  latencyModel: string;
  latencyModelDetails: { id: string; package: string | null; version: string | null; label: string };
} {
  return {
    latencyModel: m.id,
    latencyModelDetails: { id: m.id, package: m.package, version: m.version, label: m.label },
  };
}
