import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, useTempCache } from './test-util.js';

const cacheDir = useTempCache('zoo');

describe('swapless zoo', () => {
  it('generates, then reuses the cache, and copies to --out', async () => {
    const first = JSON.parse((await cli('zoo', '--models', 'mobilenet_v2,squeezenet', '--json')).out);
    expect(first.models.map((m: { name: string }) => m.name)).toEqual(['mobilenet_v2', 'squeezenet']);
    expect(first.models.every((m: { cached: boolean }) => !m.cached)).toBe(true);
    const out = await mkdtemp(join(tmpdir(), 'swapless-zoo-out-'));
    const second = JSON.parse((await cli('zoo', '--models', 'mobilenet_v2', '--out', out, '--json')).out);
    expect(second.models[0].cached).toBe(true);
    expect(second.models[0].sha256).toBe(first.models[0].sha256);
    expect(second.models[0].path).toBe(join(out, 'mobilenet_v2.tflite'));
    expect((await readFile(second.models[0].path)).byteLength).toBe(first.models[0].bytes);
  });

  it('refuses an unknown model name with exit 2 and the list of names', async () => {
    const r = await cli('zoo', '--models', 'mobilenet_v9');
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/Expected one of mobilenet_v1, .* but received "mobilenet_v9"/);
  });

  it('reports an unwritable --out as an I/O failure (exit 1)', async () => {
    const _dir = await mkdtemp(join(tmpdir(), 'swapless-zoo-bad-'));
    const file = join(cacheDir(), 'not-a-dir');
    await writeFile(file, 'x');
    const r = await cli('zoo', '--models', 'squeezenet', '--out', join(file, 'sub'), '--json');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.out).error.code).toBe('SWAPLESS_IO');
  });

  it('lets other commands take a zoo name as MODEL', async () => {
    const r = await cli('inspect', 'squeezenet', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.edgetpuPrefix.length).toBe(j.computeOps);
    expect(j.inputs[0].type).toBe('INT8');
  });
});
