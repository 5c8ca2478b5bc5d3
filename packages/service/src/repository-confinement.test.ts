// A repository full of hostile entries, on real files: every file read for a model stays inside the root, is a
// regular file under its cap, and nothing a client could see names a host path, a link's target or a file's content.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, ForbiddenPathError } from '@swapless/core';
import { tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRepository } from './repository.js';

const tiny = writeModel(tinyModel({ type: 'int8', shape: [1, 4] }));
const CANARY = 'swapless-confinement-canary-7f3a';
const savedCache = process.env.SWAPLESS_CACHE_DIR;
let base: string;
let root: string;

/** Every refused entry and the confinement reason it must be refused with. */
const REFUSED: Record<string, string> = {
  'passwd-config': 'outside-root',
  'environ-config': 'outside-root',
  'passwd-model': 'outside-root',
  'environ-model': 'outside-root',
  'zero-model': 'outside-root',
  'outside-json': 'outside-root',
  'relative-config': 'outside-root',
  'linked-folder': 'outside-root',
  'fifo-config': 'not-a-file',
  'fifo-model': 'not-a-file',
  'dir-model': 'not-a-file',
  'dir-config': 'not-a-file',
  'dangling-config': 'unresolvable',
  huge: 'too-large',
};

async function entry(name: string, files: Record<string, Uint8Array | string> = {}): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [f, data] of Object.entries(files)) await writeFile(join(dir, f), data);
  return dir;
}

/** Host paths, file contents and the environment a refusal must never show. */
function expectNothingLeaks(text: string): void {
  expect(text).not.toContain(base);
  expect(text).not.toContain(tmpdir());
  expect(text).not.toMatch(/\/etc\/|\/proc\/|\/dev\/|root:x:|PATH=/);
  expect(text).not.toContain(CANARY);
}

beforeAll(async () => {
  process.env.SWAPLESS_CONFINEMENT_CANARY = CANARY; // in /proc/self/environ
  base = await mkdtemp(join(tmpdir(), 'swapless-repo-confine-'));
  process.env.SWAPLESS_CACHE_DIR = join(base, 'cache');
  root = join(base, 'models');
  const outside = join(base, 'outside');
  await mkdir(join(outside, 'folder'), { recursive: true });
  await writeFile(join(outside, 'folder', 'model.tflite'), tiny);
  await writeFile(join(outside, 'config.json'), JSON.stringify({ rate: 99, description: CANARY }));
  await entry('good', { 'model.tflite': tiny, 'config.json': JSON.stringify({ rate: 7 }) });
  // Links to host files as config.json and as model.tflite.
  await symlink('/etc/passwd', join(await entry('passwd-config', { 'model.tflite': tiny }), 'config.json'));
  await symlink(
    '/proc/self/environ',
    join(await entry('environ-config', { 'model.tflite': tiny }), 'config.json'),
  );
  await symlink('/etc/passwd', join(await entry('passwd-model'), 'model.tflite'));
  await symlink('/proc/self/environ', join(await entry('environ-model'), 'model.tflite'));
  await symlink('/dev/zero', join(await entry('zero-model'), 'model.tflite'));
  // A link to a well-formed JSON file outside, absolute and relative; a model folder that is a link outside.
  await symlink(
    join(outside, 'config.json'),
    join(await entry('outside-json', { 'model.tflite': tiny }), 'config.json'),
  );
  await symlink(
    '../../outside/config.json',
    join(await entry('relative-config', { 'model.tflite': tiny }), 'config.json'),
  );
  await symlink(join(outside, 'folder'), join(root, 'linked-folder'));
  // FIFOs, directories, a dangling link, a 1 GiB sparse model.
  execFileSync('mkfifo', [join(await entry('fifo-config', { 'model.tflite': tiny }), 'config.json')]);
  execFileSync('mkfifo', [join(await entry('fifo-model'), 'model.tflite')]);
  await mkdir(join(await entry('dir-model'), 'model.tflite'));
  await mkdir(join(await entry('dir-config', { 'model.tflite': tiny }), 'config.json'));
  await symlink(
    join(root, 'nowhere.json'),
    join(await entry('dangling-config', { 'model.tflite': tiny }), 'config.json'),
  );
  await writeFile(join(await entry('huge'), 'model.tflite'), '');
  await truncate(join(root, 'huge', 'model.tflite'), 1024 * 1024 * 1024);
  // Links that stay inside the root are fine, and so is a chain that leaves the root and comes back to it.
  const inside = await entry('inside-link');
  await symlink('../good/model.tflite', join(inside, 'model.tflite'));
  await symlink(join(root, 'good', 'config.json'), join(inside, 'config.json'));
  await symlink(join(root, 'good', 'config.json'), join(outside, 'back.json'));
  await symlink(
    join(outside, 'back.json'),
    join(await entry('there-and-back', { 'model.tflite': tiny }), 'config.json'),
  );
  // A config.json that is not JSON and whose content must not be echoed.
  await entry('secret-text', { 'model.tflite': tiny, 'config.json': `root:x:0:0:${CANARY}` });
});

afterAll(async () => {
  delete process.env.SWAPLESS_CONFINEMENT_CANARY;
  if (savedCache === undefined) delete process.env.SWAPLESS_CACHE_DIR;
  else process.env.SWAPLESS_CACHE_DIR = savedCache;
  await rm(base, { recursive: true, force: true });
});

describe('ModelRepository confinement', () => {
  it('scans a hostile repository promptly, refusing every entry that reads outside or a non-file', async () => {
    // A FIFO opened for reading would hang this scan until the test times out.
    const { models, skipped, rejected } = await new ModelRepository({ root }).scan();
    expect(models.map((m) => m.name)).toEqual(['good', 'inside-link', 'there-and-back']);
    expect(models.find((m) => m.name === 'there-and-back')!.config).toEqual({ rate: 7 });
    expect(rejected).toEqual([]);
    const byName = Object.fromEntries(skipped.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual([...Object.keys(REFUSED), 'secret-text'].sort());
    for (const [name, reason] of Object.entries(REFUSED)) {
      const s = byName[name]!;
      expect(s.code, name).toBe(ErrorCodes.FORBIDDEN_PATH);
      expect((s.cause as ForbiddenPathError).details.reason, name).toBe(reason);
      // Named by the repository-relative file.
      expect(s.message, name).toContain(name === 'linked-folder' ? 'linked-folder' : `${name}/`);
    }
    expect(byName['fifo-config']!.message).toMatch(
      /fifo-config\/config\.json to be a regular file but it is a FIFO/,
    );
    expect(byName.huge!.message).toMatch(/at most 268435456 bytes but it is 1073741824 bytes/);
    expect(byName['secret-text']).toEqual({
      name: 'secret-text',
      code: ErrorCodes.INVALID_CONFIG,
      message: 'Expected JSON in secret-text/config.json but it is not valid JSON',
    });
    // The JSON a server sends: no host path, no link target, no file content, and no `cause`.
    const body = JSON.stringify({ skipped, rejected });
    expectNothingLeaks(body);
    expect(body).not.toContain('cause');
    // The log has the full story: the cause keeps the host paths.
    expect(JSON.stringify((byName['passwd-config']!.cause as ForbiddenPathError).details)).toContain(
      '/etc/passwd',
    );
  });

  it('refuses each hostile entry at resolution with a typed, path-free error', async () => {
    const repo = new ModelRepository({ root });
    for (const [name, reason] of Object.entries(REFUSED)) {
      const err = await repo.resolveModel(name).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ForbiddenPathError);
      expect((err as ForbiddenPathError).details, name).toMatchObject({ reason, model: name });
      expectNothingLeaks((err as Error).message);
    }
    const resolved = await repo.resolveModel('inside-link');
    expect(resolved.config).toEqual({ rate: 7 });
    expect(resolved.bytes).toEqual(tiny);
  });

  it('refuses a config that turns into a link outside after it was accepted', async () => {
    const repo = new ModelRepository({ root });
    const dir = await entry('turncoat', { 'model.tflite': tiny, 'config.json': '{"rate": 3}' });
    expect((await repo.resolveModel('turncoat')).config).toEqual({ rate: 3 });
    await rm(join(dir, 'config.json'));
    await symlink('/etc/passwd', join(dir, 'config.json'));
    await expect(repo.resolveModel('turncoat')).rejects.toMatchObject({
      code: ErrorCodes.FORBIDDEN_PATH,
      details: { reason: 'outside-root' },
    });
    await rm(dir, { recursive: true });
  });

  it('never reads the 1 GiB sparse model', async () => {
    const rchar = async () => Number(/^rchar: (\d+)$/m.exec(await readFile('/proc/self/io', 'utf8'))![1]);
    const before = await rchar();
    await expect(new ModelRepository({ root }).resolveModel('huge')).rejects.toMatchObject({
      details: { reason: 'too-large' },
    });
    expect((await rchar()) - before).toBeLessThan(1024 * 1024);
  });
});
