// The on-disk cache: first run generates, second reuses (verified), corrupt or truncated entries are
// regenerated, an unwritable directory is a SwapLessIoError, progress events, SWAPLESS_CACHE_DIR.
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_DIR_ENV, InvalidArgumentError, type ProgressEvent, SwapLessIoError } from '@swapless/core';
import { writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildZooModel,
  generateZoo,
  generateZooModel,
  ZOO_GENERATOR_VERSION,
  type ZooModelName,
} from './index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swapless-zoo-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('generateZooModel', () => {
  it('generates once, then reuses the verified cache file', async () => {
    const dir = join(root, 'reuse');
    const events: ProgressEvent[] = [];
    const first = await generateZooModel('squeezenet', { cacheDir: dir, onProgress: (e) => events.push(e) });
    expect(first.cached).toBe(false);
    expect(first.name).toBe('squeezenet');
    expect(first.path).toBe(join(dir, `squeezenet-g${ZOO_GENERATOR_VERSION}-s0.tflite`));
    expect(events).toEqual([
      { phase: 'generate', done: 0, total: 1, label: 'squeezenet' },
      { phase: 'generate', done: 1, total: 1, label: 'squeezenet' },
    ]);
    const bytes = await readFile(first.path);
    expect(bytes.byteLength).toBe(first.bytes);
    // The file is exactly what buildZooModel + writeModel give for the seed.
    expect(Buffer.compare(bytes, Buffer.from(writeModel(buildZooModel('squeezenet'))))).toBe(0);
    expect(first.params).toBeGreaterThan(1.2e6);
    expect(first.macs).toBeGreaterThan(8e8);
    expect(first.sha256).toMatch(/^[0-9a-f]{64}$/);

    const second = await generateZooModel('squeezenet', { cacheDir: dir });
    expect(second).toEqual({ ...first, cached: true });
  });

  it('keys the cache by seed', async () => {
    const dir = join(root, 'seeds');
    const a = await generateZooModel('squeezenet', { cacheDir: dir, seed: 1 });
    const b = await generateZooModel('squeezenet', { cacheDir: dir, seed: 2 });
    expect(a.path).not.toBe(b.path);
    expect(a.sha256).not.toBe(b.sha256);
    expect(b.cached).toBe(false);
    expect((await generateZooModel('squeezenet', { cacheDir: dir, seed: 1 })).cached).toBe(true);
  });

  it('regenerates a truncated, corrupted or unverifiable cache entry instead of returning it', async () => {
    const dir = join(root, 'corrupt');
    const good = await generateZooModel('mobilenet_v1', { cacheDir: dir });
    const original = await readFile(good.path);

    await truncate(good.path, 1000);
    const afterTruncate = await generateZooModel('mobilenet_v1', { cacheDir: dir });
    expect(afterTruncate.cached).toBe(false);
    expect(afterTruncate.sha256).toBe(good.sha256);
    expect(Buffer.compare(await readFile(good.path), original)).toBe(0);

    // Same size, one flipped byte: only the hash can tell.
    const flipped = Buffer.from(original);
    flipped[flipped.length >> 1]! ^= 0xff;
    await writeFile(good.path, flipped);
    const afterFlip = await generateZooModel('mobilenet_v1', { cacheDir: dir });
    expect(afterFlip.cached).toBe(false);
    expect(Buffer.compare(await readFile(good.path), original)).toBe(0);

    // A broken or missing sidecar: regenerated too.
    await writeFile(`${good.path}.json`, '{ not json');
    expect((await generateZooModel('mobilenet_v1', { cacheDir: dir })).cached).toBe(false);
    await rm(`${good.path}.json`);
    expect((await generateZooModel('mobilenet_v1', { cacheDir: dir })).cached).toBe(false);
    expect((await generateZooModel('mobilenet_v1', { cacheDir: dir })).cached).toBe(true);
  });

  it('throws SwapLessIoError when the cache directory cannot be written', async () => {
    const file = join(root, 'not-a-directory');
    await writeFile(file, 'x');
    const error = await generateZooModel('squeezenet', { cacheDir: join(file, 'zoo') }).catch((e) => e);
    expect(error).toBeInstanceOf(SwapLessIoError);
    expect((error as SwapLessIoError).code).toBe('SWAPLESS_IO');
    expect((error as Error).message).toMatch(/^Expected a writable location for .*not-a-directory/);
  });

  it('uses cacheDir("zoo") under SWAPLESS_CACHE_DIR by default', async () => {
    const saved = process.env[CACHE_DIR_ENV];
    process.env[CACHE_DIR_ENV] = join(root, 'env');
    try {
      const r = await generateZooModel('squeezenet');
      expect(r.path).toBe(join(root, 'env', 'zoo', `squeezenet-g${ZOO_GENERATOR_VERSION}-s0.tflite`));
    } finally {
      if (saved === undefined) delete process.env[CACHE_DIR_ENV];
      else process.env[CACHE_DIR_ENV] = saved;
    }
  });

  it('rejects unknown names and bad seeds before touching the disk', async () => {
    const dir = join(root, 'never');
    await expect(generateZooModel('alexnet' as ZooModelName, { cacheDir: dir })).rejects.toThrow(
      /^Expected one of mobilenet_v1, .* for model name but received "alexnet"$/,
    );
    await expect(generateZooModel('squeezenet', { cacheDir: dir, seed: -3 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(readFile(dir)).rejects.toThrow(/ENOENT/);
  });
});

describe('generateZoo', () => {
  it('generates several models in order with one progress event per model', async () => {
    const dir = join(root, 'many');
    const events: ProgressEvent[] = [];
    const names = ['squeezenet', 'mobilenet_v1'] as const;
    const results = await generateZoo(names, { cacheDir: dir, onProgress: (e) => events.push(e) });
    expect(results.map((r) => [r.name, r.cached])).toEqual([
      ['squeezenet', false],
      ['mobilenet_v1', false],
    ]);
    expect(events).toEqual([
      { phase: 'generate', done: 0, total: 2, label: 'squeezenet' },
      { phase: 'generate', done: 1, total: 2, label: 'mobilenet_v1' },
      { phase: 'generate', done: 2, total: 2, label: 'mobilenet_v1' },
    ]);
    const again = await generateZoo(names, { cacheDir: dir });
    expect(again.every((r) => r.cached)).toBe(true);
  });
});
