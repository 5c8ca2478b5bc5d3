import { mkdir, mkdtemp, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, InvalidArgumentError, InvalidConfigError, InvalidModelError } from '@swapless/core';
import { tinyModel } from '@swapless/int8-builder';
import { readModel, writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRepository } from './repository.js';

const tiny = writeModel(tinyModel({ type: 'int8', shape: [1, 4] }));
const savedCache = process.env.SWAPLESS_CACHE_DIR;
let root: string;
let outside: string;

async function put(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
}

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), 'swapless-repo-'));
  process.env.SWAPLESS_CACHE_DIR = join(base, 'cache');
  root = join(base, 'models');
  outside = join(base, 'outside');
  await put(join(root, 'tiny', 'model.tflite'), tiny);
  await put(join(root, 'tiny', 'config.json'), JSON.stringify({ rate: 20, sloMs: 5, description: 'x + x' }));
  await put(join(root, 'single', 'whatever.tflite'), tiny);
  await put(join(root, 'broken', 'model.tflite'), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  await put(join(root, 'badconfig', 'model.tflite'), tiny);
  await put(join(root, 'badconfig', 'config.json'), JSON.stringify({ rate: -1, colour: 'red' }));
  await put(join(root, 'notjson', 'model.tflite'), tiny);
  await put(join(root, 'notjson', 'config.json'), '{ rate: ');
  await put(join(root, 'two', 'a.tflite'), tiny);
  await put(join(root, 'two', 'b.tflite'), tiny);
  await mkdir(join(root, 'empty'), { recursive: true });
  await put(join(root, 'loose.tflite'), tiny);
  await put(join(root, '.hidden', 'model.tflite'), tiny);
  // Symlinks that point outside the root: a folder, and a model file inside a regular folder.
  await put(join(outside, 'evil', 'model.tflite'), tiny);
  await symlink(join(outside, 'evil'), join(root, 'escape'));
  await mkdir(join(root, 'linkfile'));
  await symlink(join(outside, 'evil', 'model.tflite'), join(root, 'linkfile', 'model.tflite'));
  // A symlink that stays inside the root is fine.
  await symlink(join(root, 'tiny'), join(root, 'alias'));
});

afterAll(() => {
  if (savedCache === undefined) delete process.env.SWAPLESS_CACHE_DIR;
  else process.env.SWAPLESS_CACHE_DIR = savedCache;
});

describe('ModelRepository.scan', () => {
  it('lists usable models with their config and skips every malformed entry with a reason', async () => {
    const repo = new ModelRepository({ root });
    const { models, skipped } = await repo.scan();
    expect(models.map((m) => m.name)).toEqual(['alias', 'single', 'tiny']);
    const t = models.find((m) => m.name === 'tiny')!;
    expect(t.config).toEqual({ rate: 20, sloMs: 5, description: 'x + x' });
    expect(t.size).toBe(tiny.byteLength);
    expect(t.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(models.find((m) => m.name === 'single')!.path.endsWith('whatever.tflite')).toBe(true);
    const byName = Object.fromEntries(skipped.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual([
      'badconfig',
      'broken',
      'empty',
      'escape',
      'linkfile',
      'loose.tflite',
      'notjson',
      'two',
    ]);
    expect(byName.broken!.code).toBe(ErrorCodes.INVALID_MODEL);
    expect(byName.broken!.message).toMatch(/Expected a valid \.tflite model in repository entry broken/);
    expect(byName.badconfig!.code).toBe(ErrorCodes.INVALID_CONFIG);
    expect(byName.badconfig!.message).toMatch(/colour/);
    expect(byName.notjson!.code).toBe(ErrorCodes.INVALID_CONFIG);
    // Where it fails, never what the file holds.
    expect(byName.notjson!.message).toBe(
      'Expected JSON in notjson/config.json but it is not valid JSON (at character 2)',
    );
    expect(byName.two!.message).toMatch(/a\.tflite, b\.tflite/);
    expect(byName.empty!.message).toMatch(/found none/);
    expect(byName.escape!.code).toBe(ErrorCodes.FORBIDDEN_PATH);
    expect(byName.escape!.message).toMatch(/stay inside/);
    expect(byName.linkfile!.code).toBe(ErrorCodes.FORBIDDEN_PATH);
    expect(byName.linkfile!.message).toMatch(/linkfile\/model\.tflite to stay inside/);
    expect(byName['loose.tflite']!.message).toMatch(/loose\/model\.tflite/);
  });

  it('treats a missing root as empty and null as no repository', async () => {
    expect(await new ModelRepository({ root: join(root, 'nope') }).scan()).toEqual({
      models: [],
      skipped: [],
      rejected: [],
      pending: [],
    });
    expect(await new ModelRepository({ root: null }).scan()).toEqual({
      models: [],
      skipped: [],
      rejected: [],
      pending: [],
    });
  });

  it('re-reads an entry whose file changed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-repo-change-'));
    await put(join(dir, 'm', 'model.tflite'), new Uint8Array(16));
    const repo = new ModelRepository({ root: dir });
    expect((await repo.scan()).skipped.map((s) => s.name)).toEqual(['m']);
    await writeFile(join(dir, 'm', 'model.tflite'), tiny);
    const later = new Date(Date.now() + 5000);
    await utimes(join(dir, 'm', 'model.tflite'), later, later);
    const { models, skipped } = await repo.scan();
    expect(models.map((m) => m.name)).toEqual(['m']);
    expect(skipped).toEqual([]);
  });
});

describe('ModelRepository.resolveModel', () => {
  it('resolves a repository model to its verified bytes and config', async () => {
    const repo = new ModelRepository({ root });
    const r = await repo.resolveModel('tiny');
    expect(r.source).toBe('repository:tiny');
    expect(r.config.rate).toBe(20);
    expect(readModel(r.bytes).subgraphs[0]!.operators).toHaveLength(1);
  });

  it('falls back to the zoo and caches the generated model', async () => {
    const repo = new ModelRepository({ root });
    const a = await repo.resolveModel('squeezenet');
    expect(a.source).toBe('zoo:squeezenet');
    expect(a.bytes.byteLength).toBeGreaterThan(1000);
    const b = await repo.resolveModel('squeezenet');
    expect(b.bytes).toBe(a.bytes);
    expect(repo.zooNames()).toContain('mobilenet_v2');
  });

  it('refuses zoo names when the zoo is off', async () => {
    const repo = new ModelRepository({ root, zoo: false });
    expect(repo.zooNames()).toEqual([]);
    await expect(repo.resolveModel('squeezenet')).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
      details: { reason: 'unknown-model' },
    });
  });

  it('rejects names that are not plain model names (path traversal) before touching the disk', async () => {
    const repo = new ModelRepository({ root });
    for (const bad of [
      '../outside/evil',
      '..',
      '.',
      '/etc/passwd',
      'a/b',
      '..%2f',
      '',
      'x'.repeat(65),
      '.hidden',
    ]) {
      const err = await repo.resolveModel(bad).catch((e: unknown) => e);
      expect(err, bad).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).details.reason, bad).toBe('invalid-name');
    }
    const err = await repo.resolveModel(42 as unknown as string).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
  });

  it('gives typed errors for unknown and malformed entries', async () => {
    const repo = new ModelRepository({ root });
    await expect(repo.resolveModel('nosuchmodel')).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
      details: { reason: 'unknown-model' },
    });
    await expect(repo.resolveModel('broken')).rejects.toBeInstanceOf(InvalidModelError);
    await expect(repo.resolveModel('badconfig')).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(repo.resolveModel('escape')).rejects.toMatchObject({
      code: ErrorCodes.FORBIDDEN_PATH,
      details: { reason: 'outside-root', model: 'escape' },
    });
    await expect(repo.resolveModel('linkfile')).rejects.toMatchObject({
      code: ErrorCodes.FORBIDDEN_PATH,
      details: { reason: 'outside-root', model: 'linkfile' },
    });
  });

  it('validates its options', () => {
    expect(() => new ModelRepository({ root: '' })).toThrow(InvalidArgumentError);
    expect(() => new ModelRepository({ root, maxModelBytes: 0 })).toThrow(InvalidArgumentError);
    expect(() => new ModelRepository({ root, maxFileBytes: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => new ModelRepository({ root, readTimeoutMs: -1 })).toThrow(InvalidArgumentError);
  });

  it('refuses a model over the size limit', async () => {
    const repo = new ModelRepository({ root, maxModelBytes: 10 });
    await expect(repo.resolveModel('tiny')).rejects.toMatchObject({
      code: ErrorCodes.FORBIDDEN_PATH,
      details: { reason: 'too-large' },
    });
    const small = new ModelRepository({ root, maxFileBytes: 10 });
    await expect(small.resolveModel('tiny')).rejects.toMatchObject({
      code: ErrorCodes.FORBIDDEN_PATH,
      details: { reason: 'too-large' },
      message: expect.stringMatching(/tiny\/config\.json to be at most 10 bytes/),
    });
  });
});
