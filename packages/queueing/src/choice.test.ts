import { ErrorCodes, InvalidConfigError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { latencyModelChoiceOf, resolveLatencyModel } from './choice.js';
import { conformanceSystems } from './conformance.js';
import { defaultModel } from './model.js';

const refusal = async (p: Promise<unknown> | (() => unknown)) => {
  let caught: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidConfigError);
  expect((caught as InvalidConfigError).code).toBe(ErrorCodes.INVALID_CONFIG);
  return caught as InvalidConfigError;
};

describe('latency model choices (config key, service option, CLI flags)', () => {
  it('flags: id alone, id with options, options alone for the default; bad JSON is SWAPLESS_INVALID_CONFIG', async () => {
    expect(latencyModelChoiceOf(undefined, undefined)).toBeUndefined();
    expect(latencyModelChoiceOf('./x', undefined)).toBe('./x');
    expect(latencyModelChoiceOf('m', '{"a":1}')).toEqual({ id: 'm', options: { a: 1 } });
    expect(latencyModelChoiceOf(undefined, '{}')).toEqual({ id: 'mg1-default', options: {} });
    expect((await refusal(() => latencyModelChoiceOf('m', '{nope'))).message).toMatch(
      /^Expected a JSON object for --latency-model-options but received text that does not parse/,
    );
    expect((await refusal(() => latencyModelChoiceOf('m', '[1]'))).message).toBe(
      'Expected a JSON object for --latency-model-options but received an array of length 1',
    );
  });

  it('resolves ids, { id, options } and instances, labelled; refuses what is malformed', async () => {
    const d = await resolveLatencyModel(undefined);
    expect(d.id).toBe('mg1-default');
    expect(d.label).toMatch(/^mg1-default \(@swapless\/queueing@\d+\.\d+\.\d+/);
    const own = await resolveLatencyModel(defaultModel);
    expect(own.label).toBe('mg1-default (built-in)');
    const p = own.model.predict(conformanceSystems()[0]!.system);
    expect(p.meanResponseMs).toBeGreaterThan(0);
    const bad = await refusal(resolveLatencyModel({ id: 'mg1-default', options: { nope: 1 } }));
    expect(bad.problems[0]).toMatch(/^\/options/);
    await refusal(
      resolveLatencyModel({ id: 'mg1-default', options: [] as unknown as Record<string, unknown> }),
    );
    await refusal(resolveLatencyModel(42 as unknown as string));
    // An installed package that is not a plugin: the loader's own, specific error.
    const notPlugin = await refusal(resolveLatencyModel('vitest'));
    expect(notPlugin.message).toMatch(/^Expected a valid plugin manifest for .*vitest.swapless-plugin\.json/);
    const unknown = await refusal(resolveLatencyModel('no-such-model'));
    expect(unknown.message).toMatch(/^Expected a registered id \(mg1-default\)/);
  });
});
