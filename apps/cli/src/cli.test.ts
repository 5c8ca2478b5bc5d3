import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { defaultModelPath } from './model-file.js';
import { cli, useTempCache } from './test-util.js';

const FACE = defaultModelPath();

describe('swapless (top level)', () => {
  it('lists commands with --help and exits 0; no command exits 2', async () => {
    const help = await cli('--help');
    expect(help.status).toBe(0);
    for (const c of ['demo', 'inspect', 'split', 'run']) expect(help.out).toContain(c);
    expect((await cli()).status).toBe(2);
  });

  it('rejects an unknown command and unknown flags with exit 2', async () => {
    const r = await cli('frobnicate');
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/unknown command "frobnicate"/);
    const f = await cli('inspect', FACE, '--bogus');
    expect(f.status).toBe(2);
    expect(f.err).toMatch(/SWAPLESS_USAGE/);
  });

  it('prints per-command help', async () => {
    const r = await cli('split', '--help');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/Usage: swapless split MODEL --at K --out DIR/);
  });
});

describe('swapless inspect', () => {
  it('reports the real face detector: 90 compute ops of 164, 91 cut points, float so nothing maps', async () => {
    const r = await cli('inspect', FACE, '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.operators).toBe(164);
    expect(j.computeOps).toBe(90);
    expect(j.ops).toHaveLength(90);
    expect(j.cuts).toHaveLength(91);
    expect(j.inputs).toEqual([
      { index: expect.any(Number), name: 'input', type: 'FLOAT32', shape: [1, 128, 128, 3] },
    ]);
    expect(j.outputs.map((o: { shape: number[] }) => o.shape)).toEqual([
      [1, 896, 16],
      [1, 896, 1],
    ]);
    expect(j.params).toBeGreaterThan(90_000);
    expect(j.macs).toBe(j.ops.reduce((s: number, o: { macs: number }) => s + o.macs, 0));
    expect(j.edgetpuPrefix.length).toBe(0);
    expect(j.edgetpuPrefix.reason).toMatch(/FLOAT32/);
    expect(j.cheapestCuts.length).toBeGreaterThan(0);
  });

  it('prints a readable summary with the cheapest cuts', async () => {
    const r = await cli('inspect', FACE, '--cuts', '3', '--ops');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/90 compute ops \(164 operators/);
    expect(r.out).toMatch(/Cheapest cut points/);
    expect(r.out).toMatch(/CONV_2D/);
  });

  it('gives a typed error and exit 1 for a missing file and for a malformed model', async () => {
    const missing = await cli('inspect', '/nonexistent/model.tflite', '--json');
    expect(missing.status).toBe(1);
    expect(JSON.parse(missing.out).error.code).toBe('SWAPLESS_IO');
    const dir = await mkdtemp(join(tmpdir(), 'swapless-cli-'));
    const bad = join(dir, 'bad.tflite');
    await writeFile(bad, new Uint8Array(300).fill(7));
    const malformed = await cli('inspect', bad, '--json');
    expect(malformed.status).toBe(1);
    expect(JSON.parse(malformed.out).error.code).toBe('SWAPLESS_INVALID_MODEL');
  });

  it('needs exactly one MODEL', async () => {
    expect((await cli('inspect')).status).toBe(2);
    expect((await cli('inspect', FACE, FACE)).status).toBe(2);
  });
});

describe('swapless split', () => {
  it('writes a head, a tail and a manifest that connect', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-split-'));
    const r = await cli('split', FACE, '--at', '8', '--out', dir, '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.k).toBe(8);
    expect(j.n).toBe(90);
    const head = readModel(new Uint8Array(await readFile(j.head.path)));
    const tail = readModel(new Uint8Array(await readFile(j.tail.path)));
    const names = (m: typeof head, which: 'inputs' | 'outputs') =>
      m.subgraphs[0]![which].map((t) => m.subgraphs[0]!.tensors[t]!.name);
    // Cut 8 is inside a residual block: two tensors cross it, and every tail input is a head output.
    expect(j.boundary.length).toBeGreaterThanOrEqual(2);
    expect(names(tail, 'inputs')).toEqual(j.boundary.map((b: { name: string }) => b.name));
    for (const n of names(tail, 'inputs')) expect(names(head, 'outputs')).toContain(n);
    expect(JSON.parse(await readFile(j.manifest, 'utf8')).k).toBe(8);
  });

  it('refuses a cut outside 0..n and missing flags with exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-split-'));
    const out = await cli('split', FACE, '--at', '91', '--out', dir);
    expect(out.status).toBe(2);
    expect(out.err).toMatch(/Expected an integer cut point between 0 and 90/);
    expect((await cli('split', FACE, '--out', dir)).status).toBe(2);
    expect((await cli('split', FACE, '--at', '3')).status).toBe(2);
    expect((await cli('split', FACE, '--at', 'x', '--out', dir)).status).toBe(2);
  });
});

describe('swapless run', () => {
  // `run` vets each model and caches the verdict: never in the user's cache.
  useTempCache('run');

  it('runs the real model and labels its time as measured', async () => {
    const r = await cli('run', FACE, '--json', '--repeat', '2', '--warmup', '0', '--delegate', 'cpu');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.source).toBe('measured');
    expect(j.backend).toMatchObject({ edgetpu: false, xnnpack: true, threads: 1 });
    expect(j.timing.runs).toBe(2);
    expect(j.timing.medianMs).toBeGreaterThan(0);
    expect(j.outputs.map((o: { shape: number[] }) => o.shape)).toEqual([
      [1, 896, 16],
      [1, 896, 1],
    ]);
    // Random input gives non-constant outputs.
    expect(j.outputs[0].max).toBeGreaterThan(j.outputs[0].min);
  });

  it('falls back to the CPU with a reason when no Edge TPU library is found (delegate auto)', async () => {
    const prev = process.env.SWAPLESS_EDGETPU_LIB;
    process.env.SWAPLESS_EDGETPU_LIB = '/nonexistent/libedgetpu.so.1';
    try {
      const auto = await cli('run', FACE, '--json', '--repeat', '1', '--warmup', '0');
      expect(auto.status).toBe(0);
      expect(JSON.parse(auto.out).backend.fallbackReason).toMatch(/nonexistent/);
      const required = await cli('run', FACE, '--json', '--repeat', '1', '--delegate', 'edgetpu');
      expect(required.status).toBe(1);
      expect(JSON.parse(required.out).error.code).toBe('SWAPLESS_DELEGATE_UNAVAILABLE');
    } finally {
      if (prev === undefined) delete process.env.SWAPLESS_EDGETPU_LIB;
      else process.env.SWAPLESS_EDGETPU_LIB = prev;
    }
  });

  it('rejects bad flag values with exit 2 and the house message', async () => {
    const t = await cli('run', FACE, '--threads', '0');
    expect(t.status).toBe(2);
    expect(t.err).toMatch(/Expected an integer from 1 to 256 for --threads but received "0"/);
    expect((await cli('run', FACE, '--delegate', 'gpu')).status).toBe(2);
    expect((await cli('run', FACE, '--xnnpack', 'maybe')).status).toBe(2);
  });
});

describe('swapless demo', () => {
  it('splits the embedded default model and verifies bit-identical outputs', async () => {
    const r = await cli('demo', '--json', '--repeat', '2');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.model).toBe(FACE);
    expect(j.bitIdentical).toBe(true);
    expect(j.k).toBeGreaterThan(0);
    expect(j.k).toBeLessThan(j.computeOps);
    expect(j.source).toBe('measured');
  });

  it('verifies a cut with several boundary tensors given by --at', async () => {
    const r = await cli('demo', '--json', '--repeat', '1', '--at', '82');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.boundary.length).toBeGreaterThanOrEqual(2);
    expect(j.bitIdentical).toBe(true);
  });
});
