import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_DIR_ENV, cacheDir, writeFileAtomic } from './cache.js';
import { ErrorCodes } from './errors.js';

const saved = process.env[CACHE_DIR_ENV];
afterEach(() => {
  if (saved === undefined) delete process.env[CACHE_DIR_ENV];
  else process.env[CACHE_DIR_ENV] = saved;
});

describe('cacheDir', () => {
  it('honours SWAPLESS_CACHE_DIR and appends the kind', () => {
    process.env[CACHE_DIR_ENV] = '/tmp/x-cache';
    expect(cacheDir()).toBe('/tmp/x-cache');
    expect(cacheDir('zoo')).toBe('/tmp/x-cache/zoo');
  });

  it('falls back to a swapless folder under the user cache', () => {
    delete process.env[CACHE_DIR_ENV];
    expect(cacheDir('profiles')).toMatch(/swapless\/profiles$/);
  });
});

describe('writeFileAtomic', () => {
  it('creates directories, replaces the file whole and leaves no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-core-'));
    const path = join(dir, 'a', 'b', 'entry.json');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['entry.json']);
  });

  it('durable: the same result, flushed (fsync of the file and the directory) before it resolves', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-core-'));
    const path = join(dir, 'state', 'tenants.json');
    await writeFileAtomic(path, 'one', { durable: true });
    await writeFileAtomic(path, new TextEncoder().encode('two'), { durable: true });
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(join(dir, 'state'))).toEqual(['tenants.json']);
  });

  it('gives SwapLessIoError when the location is not writable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-core-'));
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    // A path below a regular file cannot be created.
    await expect(writeFileAtomic(join(file, 'sub', 'entry'), 'y')).rejects.toMatchObject({
      code: ErrorCodes.IO,
      details: { errno: 'ENOTDIR' },
    });
    // A rename that fails (the name is a non-empty directory) leaves no temporary file behind.
    const taken = join(dir, 'taken');
    await mkdir(join(taken, 'inside'), { recursive: true });
    await expect(writeFileAtomic(taken, 'y', { durable: true })).rejects.toMatchObject({
      code: ErrorCodes.IO,
      details: { errno: 'EISDIR' },
    });
    expect((await readdir(dir)).sort()).toEqual(['file', 'taken']);
  });
});
