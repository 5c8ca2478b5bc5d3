import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '@swapless/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countingFactory, tempDir, testNetBytes } from './fixtures.test-util.js';
import { type ProfileOptions, profileModel } from './profile.js';
import { validateProfile } from './schema.js';
import type { Profile } from './types.js';

const bytes = testNetBytes();
const settings = { cuts: [0, 5, 10], threads: [1, 2], repetitions: 3, warmup: 1 } as const;

describe('profile cache', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let options: ProfileOptions;
  beforeEach(async () => {
    tmp = await tempDir();
    options = { ...settings, cacheDir: tmp.dir };
  });
  afterEach(() => tmp.cleanup());

  async function cachedFile(): Promise<{ path: string; json: Profile }> {
    const files = await readdir(tmp.dir);
    expect(files).toHaveLength(1);
    const path = join(tmp.dir, files[0]!);
    return { path, json: JSON.parse(await readFile(path, 'utf8')) as Profile };
  }

  it('a second call loads the cache: cached, identical, and no interpreter created', async () => {
    const first = await profileModel(bytes, options);
    expect(first.cached).toBe(false);
    const { path, json } = await cachedFile();
    expect(first.cachePath).toBe(path);
    expect(path).toMatch(new RegExp(`${first.model.sha256.slice(0, 16)}-[0-9a-f]{16}\\.json$`));
    expect(json).toEqual(JSON.parse(JSON.stringify(first)));

    const counter = countingFactory();
    const events: unknown[] = [];
    const second = await profileModel(bytes, {
      ...options,
      createInterpreter: counter.factory,
      onProgress: (e) => events.push(e),
    });
    expect(second.cached).toBe(true);
    expect(second.cachePath).toBe(path);
    expect(second.warnings).toEqual([]);
    expect(counter.created).toEqual([]);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    // Distinct parts: [0,10) (suffix of 0 = prefix of 10), [0,5), [5,10); two thread counts each.
    expect(events).toEqual([{ phase: 'profile', done: 6, total: 6, label: 'loaded from cache' }]);
  });

  it('uses cacheDir("profiles") by default', async () => {
    const p = await profileModel(bytes, settings);
    expect(p.cachePath?.startsWith(cacheDir('profiles'))).toBe(true);
    const again = await profileModel(bytes, settings);
    expect(again.cached).toBe(true);
    await rm(cacheDir(), { recursive: true, force: true });
  });

  it('a corrupt cache file is ignored with a warning, re-measured and overwritten', async () => {
    await profileModel(bytes, options);
    const { path } = await cachedFile();
    await writeFile(path, '{"schemaVersion": 1, "cu');
    const counter = countingFactory();
    const p = await profileModel(bytes, { ...options, createInterpreter: counter.factory });
    expect(p.cached).toBe(false);
    expect(counter.created.length).toBeGreaterThan(0);
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0]).toMatch(/^Ignored the cached profile .*: not JSON/);
    const { json } = await cachedFile();
    expect(validateProfile(json).createdAt).toBe(p.createdAt);
    expect((await profileModel(bytes, options)).cached).toBe(true);
  });

  it('a schema-invalid cache file is never returned', async () => {
    await profileModel(bytes, options);
    const { path, json } = await cachedFile();
    json.cuts[1]!.suffix!.measurements[0]!.samples = [];
    await writeFile(path, JSON.stringify(json));
    const p = await profileModel(bytes, options);
    expect(p.cached).toBe(false);
    expect(p.warnings[0]).toMatch(/samples must NOT have fewer than 1 items/);
    expect(p.cuts[1]!.suffix!.measurements[0]!.samples).toHaveLength(3);
  });

  for (const [what, edit] of [
    [
      'host',
      (j: Profile) => {
        j.host.cpuModel = 'Some Other CPU';
      },
    ],
    [
      'runtime',
      (j: Profile) => {
        j.runtime.tfliteVersion = '2.99.0';
      },
    ],
    [
      'model',
      (j: Profile) => {
        j.model.sha256 = 'b'.repeat(64);
      },
    ],
  ] as const) {
    it(`a cache file measured under another ${what} is re-measured`, async () => {
      await profileModel(bytes, options);
      const { path, json } = await cachedFile();
      edit(json);
      await writeFile(path, JSON.stringify(json));
      const p = await profileModel(bytes, options);
      expect(p.cached).toBe(false);
      expect(p.warnings[0]).toContain(`measured under another ${what}`);
      expect((await cachedFile()).json.host.cpuModel).not.toBe('Some Other CPU');
    });
  }

  it('other settings are another entry', async () => {
    await profileModel(bytes, options);
    const p = await profileModel(bytes, { ...options, repetitions: 4 });
    expect(p.cached).toBe(false);
    expect(p.warnings).toEqual([]);
    expect(await readdir(tmp.dir)).toHaveLength(2);
    const q = await profileModel(bytes, { ...options, cuts: 'all' });
    expect(q.cached).toBe(false);
  });

  it('cache: false neither reads nor writes; refresh: true measures and overwrites', async () => {
    const off = await profileModel(bytes, { ...options, cache: false });
    expect(off.cachePath).toBeNull();
    expect(await readdir(tmp.dir)).toEqual([]);
    const first = await profileModel(bytes, options);
    const refreshed = await profileModel(bytes, { ...options, refresh: true });
    expect(refreshed.cached).toBe(false);
    expect(refreshed.cachePath).toBe(first.cachePath);
    expect((await cachedFile()).json.createdAt).toBe(refreshed.createdAt);
  });

  it('an unwritable cache directory still returns the profile, with a warning', async () => {
    const file = join(tmp.dir, 'not-a-dir');
    await writeFile(file, 'x');
    const p = await profileModel(bytes, { ...options, cacheDir: join(file, 'profiles') });
    expect(p.cached).toBe(false);
    expect(p.cachePath).toBeNull();
    expect(p.warnings).toHaveLength(1);
    expect(p.warnings[0]).toMatch(/^Could not write the profile cache: Expected a writable location/);
    expect(p.cuts).toHaveLength(3);
  });
});
