// Over real HTTP, the operator session: a repository with links to host files, FIFOs, a link to /dev/zero,
// a directory named model.tflite, a 1 GiB sparse model and links out of the root at every level. The server starts,
// GET /api/v1/models answers at once, every such entry is refused with a typed 400, and no response body names a
// host path, a link's target or what a file holds.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from './server.js';
import { testServerConfig, useTestCache } from './test-support.js';

const tiny = writeModel(tinyModel({ type: 'int8', shape: [1, 8] }));
const CANARY = 'swapless-server-confinement-canary-91c2';
let restoreCache = (): void => {};
/** Long enough for a loaded machine, short enough that a request waiting on a FIFO fails the test. */
const PROMPT_MS = 10_000;

/** What a client is told about the issue's `ln -s /etc/passwd models/leak/config.json`. */
const LEAK_MESSAGE =
  'Expected leak/config.json to stay inside the repository but it resolves to a path outside it';

/** Repository entries the server must refuse, each with the confinement reason. */
const REFUSED = [
  'leak', // config.json → /etc/passwd (the example)
  'environ', // config.json → /proc/self/environ
  'passwd-model', // model.tflite → /etc/passwd
  'environ-model', // model.tflite → /proc/self/environ
  'zero', // model.tflite → /dev/zero
  'outside-json', // config.json → a well-formed JSON file outside
  'relative', // config.json → ../../outside/config.json
  'linked-folder', // the model folder itself is a link outside
  'fifo-config', // a FIFO named config.json
  'fifo-model', // a FIFO named model.tflite
  'dir-model', // a directory named model.tflite
  'huge', // a 1 GiB sparse model.tflite
];

let work: string;
let server: RunningServer;
let base: string;
const logs: Record<string, unknown>[] = [];

async function entry(name: string, files: Record<string, Uint8Array | string> = {}): Promise<string> {
  const dir = join(work, 'models', name);
  await mkdir(dir, { recursive: true });
  for (const [f, data] of Object.entries(files)) await writeFile(join(dir, f), data);
  return dir;
}

/** A request that must be answered promptly, with its body as text. */
async function call(path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(PROMPT_MS) });
  return { status: res.status, text: await res.text() };
}

function register(name: string, model: string): Promise<{ status: number; text: string }> {
  return call('/api/v1/tenants', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, model }),
  });
}

function expectNothingLeaks(text: string): void {
  expect(text).not.toContain(work);
  expect(text).not.toContain(tmpdir());
  expect(text).not.toMatch(/\/etc\/|\/proc\/|\/dev\/|root:x:|PATH=/);
  expect(text).not.toContain(CANARY);
}

beforeAll(async () => {
  process.env.SWAPLESS_SERVER_CONFINEMENT_CANARY = CANARY; // shows in /proc/self/environ
  work = await mkdtemp(join(tmpdir(), 'swapless-server-confine-'));
  restoreCache = useTestCache(work);
  const outside = join(work, 'outside');
  await mkdir(join(outside, 'folder'), { recursive: true });
  await writeFile(join(outside, 'folder', 'model.tflite'), tiny);
  await writeFile(join(outside, 'config.json'), JSON.stringify({ rate: 99, description: CANARY }));
  await entry('good', { 'model.tflite': tiny, 'config.json': JSON.stringify({ rate: 7, sloMs: 40 }) });
  await symlink('/etc/passwd', join(await entry('leak', { 'model.tflite': tiny }), 'config.json'));
  await symlink('/proc/self/environ', join(await entry('environ', { 'model.tflite': tiny }), 'config.json'));
  await symlink('/etc/passwd', join(await entry('passwd-model'), 'model.tflite'));
  await symlink('/proc/self/environ', join(await entry('environ-model'), 'model.tflite'));
  await symlink('/dev/zero', join(await entry('zero'), 'model.tflite'));
  await symlink(
    join(outside, 'config.json'),
    join(await entry('outside-json', { 'model.tflite': tiny }), 'config.json'),
  );
  await symlink(
    '../../outside/config.json',
    join(await entry('relative', { 'model.tflite': tiny }), 'config.json'),
  );
  await symlink(join(outside, 'folder'), join(work, 'models', 'linked-folder'));
  execFileSync('mkfifo', [join(await entry('fifo-config', { 'model.tflite': tiny }), 'config.json')]);
  execFileSync('mkfifo', [join(await entry('fifo-model'), 'model.tflite')]);
  await mkdir(join(await entry('dir-model'), 'model.tflite'));
  await writeFile(join(await entry('huge'), 'model.tflite'), '');
  await truncate(join(work, 'models', 'huge', 'model.tflite'), 1024 * 1024 * 1024);
  // Links that stay inside the root are accepted.
  const inside = await entry('inside');
  await symlink('../good/model.tflite', join(inside, 'model.tflite'));
  await symlink(join(work, 'models', 'good', 'config.json'), join(inside, 'config.json'));
  // Not JSON, and its content must not be echoed.
  await entry('secret-text', { 'model.tflite': tiny, 'config.json': `root:x:0:0:${CANARY}` });
  const logger: Logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line)) },
  );
  server = await startServer(
    { ...testServerConfig(work, join(work, 'models')), tenants: [] },
    { logger, progress: false },
  );
  base = server.urls.base;
});

afterAll(async () => {
  await server?.close();
  delete process.env.SWAPLESS_SERVER_CONFINEMENT_CANARY;
  restoreCache();
  await rm(work, { recursive: true, force: true });
});

describe('model repository confinement over HTTP', () => {
  it('GET /api/v1/models answers promptly and lists every hostile entry as skipped, without host paths', async () => {
    const { status, text } = await call('/api/v1/models');
    expect(status).toBe(200);
    expectNothingLeaks(text);
    const body = JSON.parse(text) as {
      repository: string[];
      pending: { name: string }[];
      skipped: { name: string; code: string; message: string }[];
    };
    const byName = Object.fromEntries(body.skipped.map((s) => [s.name, s]));
    for (const name of REFUSED) expect(byName[name]?.code, name).toBe('SWAPLESS_FORBIDDEN_PATH');
    expect(byName['secret-text']?.code).toBe('SWAPLESS_INVALID_CONFIG');
    expect(byName.leak!.message).toBe(LEAK_MESSAGE);
    expect(byName['fifo-config']!.message).toMatch(
      /fifo-config\/config\.json to be a regular file but it is a FIFO/,
    );
    expect(byName['dir-model']!.message).toMatch(
      /dir-model\/model\.tflite to be a regular file but it is a directory/,
    );
    expect(byName.huge!.message).toMatch(
      /huge\/model\.tflite to be at most \d+ bytes but it is 1073741824 bytes/,
    );
    expect([...body.repository, ...body.pending.map((p) => p.name)].sort()).toEqual(['good', 'inside']);
  });

  it('refuses to register each hostile entry with a 400 that names only the model and its file', async () => {
    for (const model of REFUSED) {
      const { status, text } = await register(`t-${model}`, model);
      expect(status, model).toBe(400);
      expectNothingLeaks(text);
      const body = JSON.parse(text) as { error: string; code: string };
      expect(body.code, model).toBe('SWAPLESS_FORBIDDEN_PATH');
      expect(body.error, model).toContain(model);
    }
    const secret = await register('t-secret', 'secret-text');
    expect(secret.status).toBe(400);
    expectNothingLeaks(secret.text);
    expect(JSON.parse(secret.text)).toEqual({
      error: 'Expected JSON in secret-text/config.json but it is not valid JSON',
      code: 'SWAPLESS_INVALID_CONFIG',
    });
    expect(server.service.tenantNames()).toEqual([]);
  });

  it('registers a model whose links stay inside the root, and serves it over KServe', async () => {
    const { status, text } = await register('inside', 'inside');
    expect(status, text).toBe(201);
    // Its config came through the link inside the root.
    expect(JSON.parse(text)).toMatchObject({ name: 'inside', source: 'repository:inside', sloMs: 40 });
    expect((await call('/v2/models/inside/ready')).status).toBe(200);
    // A refused entry is no KServe model either, and saying so names no host path.
    const missing = await call('/v2/models/leak');
    expect(missing.status).toBe(404);
    expectNothingLeaks(missing.text);
  });

  it('logs where a refused link leads, for the operator (logs may hold host paths, bodies never)', () => {
    const line = logs.find(
      (l) => l.msg === `repository entry skipped: ${LEAK_MESSAGE}` && l.model === 'leak',
    );
    expect(line).toBeDefined();
    expect(JSON.stringify(line)).toContain('/etc/passwd');
  });
});
