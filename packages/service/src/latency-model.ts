/**
 * The service's latency model: `ServiceOptions.latencyModel` resolved through the latency-model registry of
 * `@swapless/queueing` (guarded: quick conformance checks at load, every prediction checked), or — without it —
 * the model the service always used (`policyOptions.model` of the swapless policy, else `mg1-default`).
 */
import type { LatencyModel } from '@swapless/contracts';
import type { Predictor } from '@swapless/controller';
import { expected, InvalidArgumentError } from '@swapless/core';
import {
  defaultModel,
  type HostedLatencyModel,
  latencyModelLabel,
  queueingPackage,
  resolveLatencyModel,
} from '@swapless/queueing';
import type { ServiceOptions } from './types.js';

/** The model the service predicts with (and the swapless policy plans with), and what to call it. */
export async function serviceLatencyModel(options: ServiceOptions): Promise<HostedLatencyModel> {
  const explicit = (options.policyOptions as { model?: Predictor } | undefined)?.model;
  if (options.latencyModel !== undefined) {
    if (explicit !== undefined)
      throw new InvalidArgumentError(
        expected('latencyModel or policyOptions.model, not both', 'the service latency model', 'both'),
      );
    return resolveLatencyModel(options.latencyModel);
  }
  const model: LatencyModel =
    (options.policy ?? 'swapless') === 'swapless' && explicit !== undefined ? explicit : defaultModel;
  const own = model === defaultModel ? queueingPackage() : null;
  const identity = { id: model.name, package: own?.name ?? null, version: own?.version ?? null };
  return { model, ...identity, label: latencyModelLabel(identity) };
}

/** The policy options with the chosen model for the swapless policy (unchanged without `latencyModel`). */
export function policyOptionsWith(options: ServiceOptions, latency: HostedLatencyModel): object | undefined {
  if (options.latencyModel === undefined || (options.policy ?? 'swapless') !== 'swapless')
    return options.policyOptions;
  return { ...options.policyOptions, model: latency.model };
}
