import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SystemSetup } from '@swapless/contracts';
import { API_VERSION, type LatencyModel } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError, InvalidConfigError } from '@swapless/core';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPlugin, readPluginManifest } from './loader.js';
import { defaultModel } from './model.js';
import { BUILTIN_LATENCY_MODELS, createLatencyModelRegistry, LatencyModelRegistry } from './registry.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const fixture = (name: string) => join(fixtures, name);
const g = globalThis as { __swaplessFixtureLoads?: string[] };
const loads = () => g.__swaplessFixtureLoads ?? [];

const system: SystemSetup = {
  cores: 1,
  tenants: [
    {
      name: 'a',
      rate: 10,
      k: 2,
      n: 4,
      cores: 1,
      tpu: { token: 't', serviceMs: 2, serviceVarianceMs2: 0, reloadMs: 0, source: 'emulated' },
      cpu: { mode: 'mg1', samplesMs: [3], source: 'measured' },
    },
  ],
};

async function refused(promise: Promise<unknown>): Promise<InvalidConfigError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidConfigError);
    expect((e as InvalidConfigError).code).toBe(ErrorCodes.INVALID_CONFIG);
    return e as InvalidConfigError;
  }
  throw new Error('expected a rejection');
}

beforeEach(() => {
  g.__swaplessFixtureLoads = [];
});

describe('plugin manifest: refused before any plugin code runs', () => {
  it('wrong types and unknown fields: every ajv path in the message', async () => {
    const e = await refused(loadPlugin(fixture('bad-types')));
    expect(e.message).toMatch(
      /^Expected a valid plugin manifest for .*bad-types\/swapless-plugin\.json but received one with 4 problems:/,
    );
    expect(e.problems).toEqual(
      expect.arrayContaining([
        '/: must NOT have additional properties (unknown property "extra")',
        expect.stringMatching(/^\/name: must match pattern/),
        expect.stringMatching(/^\/version: must match pattern/),
        '/apiVersion: must be string',
      ]),
    );
    expect(e.message).toContain('/apiVersion: must be string');
    expect(loads()).toEqual([]);
  });

  it(`apiVersion out of range for the host API ${API_VERSION}`, async () => {
    const e = await refused(loadPlugin(fixture('bad-api')));
    expect(e.problems).toEqual([
      `/apiVersion: range "^2.0.0" does not include this host's latency-model API ${API_VERSION}`,
    ]);
    expect(loads()).toEqual([]);
  });

  it('entry escaping the package (even to a file that exists)', async () => {
    const e = await refused(loadPlugin(fixture('escape')));
    expect(e.problems).toEqual([
      '/entry: "./sub/../../good-plugin/index.js" resolves outside the plugin package',
    ]);
    expect(loads()).toEqual([]);
  });

  it('options failing the plugin schema: ajv paths under /options', async () => {
    const e = await refused(loadPlugin(fixture('bad-options'), { halfLife: 0, mode: 'slow' }));
    expect(e.problems).toEqual([
      '/options/halfLife: must be >= 1',
      '/options/mode: must be equal to one of the allowed values ("fast", "exact")',
    ]);
    expect(e.message).toContain('/options/halfLife: must be >= 1');
    const missing = await refused(loadPlugin(fixture('bad-options'), {}));
    expect(missing.problems).toEqual(["/options: must have required property 'halfLife'"]);
    expect(loads()).toEqual([]);
  });

  it('an options schema that is not valid JSON Schema', async () => {
    const e = await refused(loadPlugin(fixture('bad-schema')));
    expect(e.problems[0]).toMatch(/^\/optionsSchema: not a valid JSON Schema/);
    expect(loads()).toEqual([]);
  });

  it('missing manifest, and a package that is not installed', async () => {
    const e = await refused(loadPlugin(fixtures));
    expect(e.problems).toEqual(['/: file not found']);
    const n = await refused(loadPlugin('@nobody/not-installed-plugin', {}, { baseDir: fixtures }));
    expect(n.message).toMatch(/^Expected an installed plugin package for "@nobody\/not-installed-plugin"/);
  });

  it('a valid plugin loads, with schema defaults applied and options frozen', async () => {
    const loaded = await loadPlugin(fixture('good-plugin'));
    expect(loads()).toEqual(['good-plugin']);
    expect(loaded.manifest.name).toBe('@fixture/good-plugin');
    expect(loaded.options).toEqual({ scale: 1 });
    expect(Object.isFrozen(loaded.options)).toBe(true);
    expect(loaded.model.name).toBe('fixture-good');
    expect(loaded.model.predict(system).tenants[0]!.responseMs).toBe(5);
    expect(readPluginManifest(fixture('good-plugin')).entryPath).toBe(
      join(fixture('good-plugin'), 'index.js'),
    );
  });

  it('an entry without a factory default export is refused after import', async () => {
    const e = await refused(loadPlugin(fixture('not-a-factory')));
    expect(e.message).toMatch(/default export/);
  });
});

describe('registry', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'swapless-registry-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('knows the built-ins without loading anything', async () => {
    const r = createLatencyModelRegistry();
    expect(BUILTIN_LATENCY_MODELS).toEqual(['mg1-default']);
    expect(r.list()).toEqual([
      expect.objectContaining({ name: 'mg1-default', kind: 'builtin', priority: 0 }),
    ]);
    const resolved = await r.resolve();
    expect(resolved.name).toBe('mg1-default');
    expect(resolved.model.predict(system)).toEqual(defaultModel.predict(system));
    // Options of built-ins are validated too.
    const e = await refused(r.load(['mg1-default', { bogus: 1 }]));
    expect(e.problems).toEqual(['/options: must NOT have additional properties (unknown property "bogus")']);
  });

  it('resolves a package name from baseDir (node_modules lookup), lazily and cached', async () => {
    cpSync(fixture('good-plugin'), join(tmp, 'node_modules', '@fixture', 'good-plugin'), { recursive: true });
    const r = createLatencyModelRegistry({ baseDir: tmp });
    r.registerPlugin('@fixture/good-plugin', { name: 'good', priority: 5, options: { scale: 2 } });
    expect(loads()).toEqual([]); // registered, not loaded
    expect(r.list().map((e) => e.name)).toEqual(['good', 'mg1-default']);
    const first = await r.resolve();
    expect(first.name).toBe('@fixture/good-plugin');
    expect(first.kind).toBe('plugin');
    expect(first.options).toEqual({ scale: 2 });
    expect(first.model.predict(system).tenants[0]!.responseMs).toBe(10);
    const again = await r.load('good');
    expect(again).toBe(first);
    expect(loads()).toEqual(['good-plugin']);
    const other = await r.load(['good', { scale: 3 }]);
    expect(other.model).not.toBe(first.model);
    expect(other.options).toEqual({ scale: 3 });
  });

  it('resolves [path, options] candidates in the order given, skipping failures', async () => {
    const r = createLatencyModelRegistry({ baseDir: fixtures });
    const resolved = await r.resolve(['./bad-api', ['./good-plugin', { scale: 4 }], 'mg1-default']);
    expect(resolved.name).toBe('@fixture/good-plugin');
    expect(resolved.options).toEqual({ scale: 4 });
  });

  it('ONE aggregated error listing every candidate and why', async () => {
    const r = createLatencyModelRegistry({ baseDir: fixtures });
    const e = await refused(
      r.resolve(['./bad-api', './escape', ['./bad-options', { halfLife: 0 }], 'no-such-model']),
    );
    expect(e.message).toMatch(
      /^Expected at least one loadable latency model for the candidates but received 4 that all failed:/,
    );
    expect(e.problems).toHaveLength(4);
    expect(e.problems[0]).toMatch(
      /^\/0 \.\/bad-api: SWAPLESS_INVALID_CONFIG: .*\/apiVersion: range "\^2\.0\.0"/,
    );
    expect(e.problems[1]).toMatch(/^\/1 \.\/escape: .*resolves outside the plugin package/);
    expect(e.problems[2]).toMatch(/^\/2 \.\/bad-options: .*\/options\/halfLife: must be >= 1/);
    expect(e.problems[3]).toMatch(
      /^\/3 no-such-model: .*Expected a registered id \(mg1-default\), .* or a path to a plugin package .* but received "no-such-model"/,
    );
    expect(e.details.failures).toHaveLength(4);
    expect(e.cause).toBeInstanceOf(AggregateError);
    expect(loads()).toEqual([]);
  });

  it('priority order when no candidates are given; a failing top entry falls through', async () => {
    const made: string[] = [];
    const factory = (name: string) => (): LatencyModel => {
      made.push(name);
      return { name, predict: (s) => ({ ...defaultModel.predict(s), model: name }) };
    };
    const r = new LatencyModelRegistry({ baseDir: fixtures })
      .register('low', factory('low'), { priority: -1 })
      .register('high', factory('high'), { priority: 10 })
      .registerPlugin('./bad-api', { name: 'broken', priority: 100 });
    expect(r.list().map((e) => e.name)).toEqual(['broken', 'high', 'low']);
    expect((await r.resolve()).name).toBe('high');
    expect(made).toEqual(['high']); // lazy: 'low' never instantiated
    await r.resolve();
    expect(made).toEqual(['high']); // cached
  });

  it('a factory returning something that is not a LatencyModel, or a malformed spec', async () => {
    const r = new LatencyModelRegistry().register('bad', () => ({ name: 3 }) as unknown as LatencyModel);
    const e = await refused(r.load('bad'));
    expect(e.problems).toEqual([
      '/name: expected a non-empty string but received 3',
      '/predict: expected a function but received undefined',
    ]);
    await expect(r.load(42 as unknown as string)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(r.load(['x', 'y'] as unknown as [string])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => r.register('', () => defaultModel)).toThrow(InvalidArgumentError);
    await expect(new LatencyModelRegistry().resolve()).rejects.toBeInstanceOf(InvalidConfigError);
  });
});
