import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, useTempCache } from './test-util.js';

const cacheDir = useTempCache('plugins');
const PLUGIN = fileURLToPath(new URL('../../../packages/latency-model-switchover', import.meta.url));
const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../packages/queueing/test/fixtures/${name}`, import.meta.url));
const QUICK = ['--repetitions', '2', '--max-cuts', '4'];

async function workload(): Promise<string> {
  const path = join(cacheDir(), 'w.json');
  await writeFile(
    path,
    JSON.stringify({
      device: 'usb3',
      cpu: { cores: 2 },
      tenants: [
        { name: 'a', model: 'squeezenet', rate: 30 },
        { name: 'b', model: 'squeezenet', rate: 10 },
      ],
      durationS: 5,
    }),
  );
  return path;
}

describe('swapless plugins', () => {
  it('list: the built-in model and the installed plugins, with id, package, version, source', async () => {
    const r = await cli('plugins', 'list', '--json');
    expect(r.status).toBe(0);
    const { models } = JSON.parse(r.out);
    expect(models[0]).toMatchObject({ id: 'mg1-default', package: '@swapless/queueing', source: 'built-in' });
    expect(models).toContainEqual({
      id: 'mg1-switchover',
      package: '@swapless/latency-model-switchover',
      version: '0.1.0',
      source: PLUGIN,
      error: null,
    });
  });

  it('check: the example plugin conforms (exit 0); a bad one fails with every failure listed (exit 1)', async () => {
    const good = await cli('plugins', 'check', PLUGIN);
    expect(good.status).toBe(0);
    expect(good.out).toContain('conforms: every check passed');
    const bad = await cli('plugins', 'check', fixture('parts-plugin'), '--json');
    expect(bad.status).toBe(1);
    const j = JSON.parse(bad.out);
    expect(j.plugin).toMatchObject({
      id: 'fixture-parts',
      package: '@fixture/parts-plugin',
      version: '0.3.1',
    });
    expect(j.passed).toBe(false);
    const components = j.checks.find((c: { name: string }) => c.name === 'components');
    expect(components.failures).toContain('single tenant: solo.responseMs 2 ≠ sum of its stages 9');
    const text = await cli('plugins', 'check', fixture('nan-plugin'));
    expect(text.status).toBe(1);
    expect(text.out).toMatch(
      /does not conform: \d+ failures\n {2}\[shape\] single tenant: solo\.responseMs = NaN/,
    );
    expect((await cli('plugins', 'check')).status).toBe(2);
  });
});

describe('--latency-model in plan and bench', () => {
  it('plan with the example plugin and options names it with package and version', async () => {
    const r = await cli(
      'plan',
      await workload(),
      '--latency-model',
      PLUGIN,
      '--latency-model-options',
      '{"correction":"linear"}',
      '--no-simulate',
      '--json',
      ...QUICK,
    );
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.latencyModel).toBe('mg1-switchover');
    expect(j.latencyModelDetails).toEqual({
      id: 'mg1-switchover',
      package: '@swapless/latency-model-switchover',
      version: '0.1.0',
      label: 'mg1-switchover (@swapless/latency-model-switchover@0.1.0)',
    });
    expect(j.phases[0].plans[0].predictedMeanMs).toBeGreaterThan(0);
  });

  it('plan refuses a plugin that predicts negative times, naming it (exit 1, SWAPLESS_INVALID_CONFIG)', async () => {
    const r = await cli('plan', await workload(), '--latency-model', fixture('negative-plugin'), '--json');
    expect(r.status).toBe(1);
    const e = JSON.parse(r.out).error;
    expect(e.code).toBe('SWAPLESS_INVALID_CONFIG');
    expect(e.message).toContain('fixture-negative (@fixture/negative-plugin@0.3.1)');
    const opts = await cli('plan', await workload(), '--latency-model-options', '{"nope":1}', '--json');
    expect(JSON.parse(opts.out).error.code).toBe('SWAPLESS_INVALID_CONFIG');
  });

  it('bench plans the swapless policy with the chosen model (by model id) and says which', async () => {
    const r = await cli(
      'bench',
      await workload(),
      '--policies',
      'swapless,default',
      '--latency-model',
      'mg1-switchover',
      ...QUICK,
    );
    expect(r.status).toBe(0);
    expect(r.out.split('\n')[0]).toContain(
      'latency model mg1-switchover (@swapless/latency-model-switchover@0.1.0)',
    );
  });
});
