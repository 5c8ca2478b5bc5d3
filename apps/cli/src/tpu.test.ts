import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelPath } from './model-file.js';
import { cli } from './test-util.js';

const saved = { cache: process.env.SWAPLESS_CACHE_DIR, compiler: process.env.SWAPLESS_EDGETPU_COMPILER };
beforeAll(async () => {
  process.env.SWAPLESS_CACHE_DIR = await mkdtemp(join(tmpdir(), 'swapless-cli-tpu-'));
  delete process.env.SWAPLESS_EDGETPU_COMPILER;
});
afterAll(() => {
  for (const [k, v] of [
    ['SWAPLESS_CACHE_DIR', saved.cache],
    ['SWAPLESS_EDGETPU_COMPILER', saved.compiler],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('swapless emulate', () => {
  it('reports the fidelity table within tolerance, labelled emulated', async () => {
    const r = await cli('emulate', '--fidelity', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.source).toBe('emulated');
    expect(j.pass).toBe(true);
    expect(j.rows.length).toBeGreaterThanOrEqual(12);
  });

  it('gives the breakdown of a model part; the first call after a switch pays the reload', async () => {
    const r = await cli('emulate', 'mobilenet_v2', '--cut', '40', '--device', 'devboard', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ source: 'emulated', device: 'devboard', k: 40 });
    expect(j.compile.mappedOps).toBe(40);
    expect(j.first.reloadMs).toBeGreaterThan(0);
    expect(j.steady.reloadMs).toBe(0);
    expect(j.first.totalMs - j.steady.totalMs).toBeCloseTo(j.first.reloadMs, 6);
  });

  it('shows inter-model swapping: alternating costs more than co-compiled', async () => {
    const r = await cli('emulate', '--alternate', 'mobilenet_v1,mobilenet_v2', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.alternating.switchCostPerPairMs).toBeGreaterThan(10);
    expect(j.coCompiled.pairMs).toBeLessThan(j.alternating.pairMs);
  });

  it('rejects a float model, an unknown device, a malformed profile and a bad cut with typed errors', async () => {
    // Nothing of a float model maps: a model problem (exit 1), not a usage error.
    const float = await cli('emulate', defaultModelPath(), '--json');
    expect(float.status).toBe(1);
    expect(JSON.parse(float.out).error).toMatchObject({
      code: 'SWAPLESS_UNSUPPORTED_MODEL',
      message: expect.stringMatching(/: float model: nothing maps to the Edge TPU$/),
    });
    expect((await cli('emulate', 'mobilenet_v2', '--device', 'tpu9')).status).toBe(2);
    const dir = await mkdtemp(join(tmpdir(), 'swapless-profile-'));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "name": "x", ');
    const malformed = await cli('emulate', 'mobilenet_v2', '--device', bad, '--json');
    expect(malformed.status).toBe(2);
    expect(JSON.parse(malformed.out).error.code).toBe('SWAPLESS_INVALID_ARGUMENT');
    expect((await cli('emulate', 'mobilenet_v2', '--cut', '999')).status).toBe(2);
    expect((await cli('emulate')).status).toBe(2);
  });
});

describe('swapless compile', () => {
  it('makes emulated variants, then serves them from the cache', async () => {
    const first = JSON.parse(
      (await cli('compile', 'squeezenet', '--cuts', '5,9', '--compiler', 'emulator', '--json')).out,
    );
    expect(first.variants.map((v: { k: number }) => v.k)).toEqual([5, 9]);
    expect(
      first.variants.every(
        (v: { source: string; fromCache: boolean }) => v.source === 'emulated' && !v.fromCache,
      ),
    ).toBe(true);
    const second = JSON.parse(
      (await cli('compile', 'squeezenet', '--cuts', '5,9', '--compiler', 'emulator', '--json')).out,
    );
    expect(second.variants.every((v: { fromCache: boolean }) => v.fromCache)).toBe(true);
    expect(second.variants[1].report).toEqual(first.variants[1].report);
  });

  it('co-compiles models under one caching token', async () => {
    const r = await cli(
      'compile',
      '--co-compile',
      'mobilenet_v1,squeezenet',
      '--compiler',
      'emulator',
      '--json',
    );
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.perModel.map((m: { model: string }) => m.model)).toEqual(['mobilenet_v1', 'squeezenet']);
    expect(j.source).toBe('emulated');
  });

  it('requires the real compiler when asked, and rejects bad arguments', async () => {
    process.env.SWAPLESS_EDGETPU_COMPILER = '/nonexistent/edgetpu_compiler';
    const r = await cli('compile', 'squeezenet', '--cuts', '5', '--compiler', 'edgetpu_compiler', '--json');
    delete process.env.SWAPLESS_EDGETPU_COMPILER;
    expect(r.status).toBe(2);
    expect(JSON.parse(r.out).error.code).toBe('SWAPLESS_INVALID_ARGUMENT');
    expect(JSON.parse(r.out).error.message).toMatch(/executable edgetpu_compiler/);
    expect((await cli('compile', 'squeezenet', '--cuts', '5,x')).status).toBe(2);
    expect((await cli('compile', 'squeezenet', '--compiler', 'gcc')).status).toBe(2);
    expect((await cli('compile')).status).toBe(2);
  });
});
