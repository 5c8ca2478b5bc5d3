// Durable tenant state: the state file itself (atomic, serialised, validated, moved aside when unusable, locked), the
// server that restores it (in process, on real files), and the real program killed with SIGKILL and started again.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildTestNet, tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfigInput } from './config.js';
import { examplePath } from './examples.js';
import { startServer } from './server.js';
import {
  openTenantState,
  type SavedTenant,
  STATE_LOCK_FILE,
  TENANT_STATE_FILE,
  type TenantStateDocument,
} from './state.js';
import {
  memoryLogger,
  reference,
  startServerProcess,
  testBanner,
  testServerConfig,
  useTestCache,
} from './test-support.js';

const run = promisify(execFile);
const tiny = writeModel(tinyModel({ type: 'int8', shape: [1, 8] }));
const testnet = writeModel(buildTestNet(3));
let restoreCache = (): void => {};

let work: string;
let repo: string;
let dirs = 0;

/** A new, empty directory under the test's work folder. */
async function freshDir(label: string): Promise<string> {
  const dir = join(work, `${label}-${++dirs}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

function config(stateDir: string, overrides: ServerConfigInput = {}): ServerConfigInput {
  return {
    ...testServerConfig(work, repo),
    stateDir,
    // Room for a CPU stage per tenant whatever the policy picks.
    cores: 4,
    logLevel: 'silent',
    tenants: [],
    ...overrides,
  };
}

const saved = (name: string, model: string, extra: Partial<SavedTenant> = {}): SavedTenant => ({
  name,
  model,
  registeredAt: '2026-01-02T03:04:05.678Z',
  ...extra,
});

function stateText(tenants: SavedTenant[]): string {
  const doc: TenantStateDocument = { version: 1, tenants };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

async function readState(dir: string): Promise<TenantStateDocument> {
  return JSON.parse(await readFile(join(dir, TENANT_STATE_FILE), 'utf8')) as TenantStateDocument;
}

/** The files moved aside in `dir`. */
async function asideFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith(`${TENANT_STATE_FILE}.corrupt-`));
}

type Log = Record<string, unknown>;
const warnings = (logs: Log[]) => logs.filter((l) => l.level === 40);

async function postJson(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** One inference of the tiny model through `name`; its outputs must equal the model run alone. */
async function infersTiny(base: string, name: string, seed: number): Promise<void> {
  const meta = (await (await fetch(`${base}/v2/models/${name}`)).json()) as { inputs: { name: string }[] };
  const input = Int8Array.from({ length: 8 }, (_, i) => ((i + 1) * (seed + 3) * 37) % 120);
  const res = await postJson(base, `/v2/models/${name}/infer`, {
    inputs: [{ name: meta.inputs[0]!.name, datatype: 'INT8', shape: [1, 8], data: Array.from(input) }],
  });
  expect(res.status, name).toBe(200);
  const body = (await res.json()) as { outputs: { data: number[] }[] };
  expect(body.outputs[0]!.data).toEqual(reference(tiny, input)[0]);
}

type TenantView = { name: string; source: string; sloMs: number | null; rate: { priorPerS: number } };

async function listTenants(base: string): Promise<TenantView[]> {
  return ((await (await fetch(`${base}/api/v1/tenants`)).json()) as { tenants: TenantView[] }).tenants;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'swapless-server-state-'));
  restoreCache = useTestCache(work);
  repo = join(work, 'models');
  await mkdir(join(repo, 'tiny'), { recursive: true });
  await writeFile(join(repo, 'tiny', 'model.tflite'), tiny);
  await writeFile(join(repo, 'tiny', 'config.json'), JSON.stringify({ sloMs: 50 }));
  await mkdir(join(repo, 'testnet'));
  await writeFile(join(repo, 'testnet', 'model.tflite'), testnet);
});

afterAll(() => {
  restoreCache();
});

describe('the state file', () => {
  it('saves every change of many concurrent ones, durably and atomically, and reads them back', async () => {
    const dir = await freshDir('concurrent');
    const state = await openTenantState(dir, memoryLogger([]));
    expect(state.owned).toBe(true);
    // 40 registrations at once, then 10 removals at once while 5 more registrations go on.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => state.save({ name: `t${i}`, model: 'tiny', rate: i + 1 })),
    );
    const removed = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => state.delete(`t${i * 4}`)),
      ...Array.from({ length: 5 }, (_, i) =>
        state.save({ name: `u${i}`, model: 'testnet', sloMs: 10 + i }).then(() => true),
      ),
    ]);
    expect(removed.every((r) => r === true)).toBe(true);
    const expected = [
      ...Array.from({ length: 40 }, (_, i) => i)
        .filter((i) => i % 4 !== 0)
        .map((i) => `t${i}`),
      ...Array.from({ length: 5 }, (_, i) => `u${i}`),
    ];
    const doc = await readState(dir);
    expect(doc.version).toBe(1);
    expect(doc.tenants.map((t) => t.name)).toEqual(expected);
    expect(doc.tenants.find((t) => t.name === 't7')).toEqual({
      name: 't7',
      model: 'tiny',
      rate: 8,
      registeredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(state.list().map((t) => t.name)).toEqual(expected);
    expect(await state.delete('t0')).toBe(false);
    // No temporary file left; the lock is the server's.
    expect((await readdir(dir)).sort()).toEqual([STATE_LOCK_FILE, TENANT_STATE_FILE]);
    await state.close();
    expect(await readdir(dir)).toEqual([TENANT_STATE_FILE]);
    const again = await openTenantState(dir, memoryLogger([]));
    expect(again.saved).toEqual(doc.tenants);
    await again.close();
  });

  it('every prefix of a small state file: opening never throws; an invalid one is moved aside with a warning', async () => {
    const text = stateText([saved('a', 'tiny', { rate: 2, sloMs: 40 }), saved('b', 'testnet')]);
    const bytes = Buffer.from(text);
    for (let n = 0; n <= bytes.length; n++) {
      const dir = await freshDir('prefix');
      const prefix = bytes.subarray(0, n);
      await writeFile(join(dir, TENANT_STATE_FILE), prefix);
      const logs: Log[] = [];
      const state = await openTenantState(dir, memoryLogger(logs));
      let valid = true;
      try {
        JSON.parse(prefix.toString());
      } catch {
        valid = false;
      }
      if (valid) {
        expect(
          state.saved.map((t) => t.name),
          `${n} bytes`,
        ).toEqual(['a', 'b']);
        expect(warnings(logs), `${n} bytes`).toEqual([]);
      } else {
        expect(state.saved, `${n} bytes`).toEqual([]);
        const aside = await asideFiles(dir);
        expect(aside, `${n} bytes`).toHaveLength(1);
        expect(await readFile(join(dir, aside[0]!)), `${n} bytes`).toEqual(prefix);
        expect(existsSync(join(dir, TENANT_STATE_FILE)), `${n} bytes`).toBe(false);
        expect(warnings(logs), `${n} bytes`).toEqual([
          expect.objectContaining({
            movedTo: join(dir, aside[0]!),
            msg: expect.stringMatching(/moved aside/),
          }),
        ]);
        // And the directory is usable again.
        await state.save({ name: 'new', model: 'tiny' });
        expect((await readState(dir)).tenants.map((t) => t.name)).toEqual(['new']);
      }
      expect(state.unavailable).toBeNull();
      await state.close();
    }
  });

  it('valid JSON of the wrong shape or version, bad bytes, a directory or a FIFO: moved aside, saying why', async () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['null', 'null', /must be object/],
      ['an array', '[]', /must be object/],
      ['a string', '"tenants"', /must be object/],
      ['an empty object', '{}', /must have required property 'version'/],
      ['no tenants', '{"version":1}', /must have required property 'tenants'/],
      ['a newer version', '{"version":2,"tenants":[]}', /state version 2, and this server reads version 1/],
      ['a version as text', '{"version":"1","tenants":[]}', /\/version: must be equal to constant/],
      ['no model', stateText([{ name: 'a', registeredAt: '2026-01-01T00:00:00Z' } as SavedTenant]), /model/],
      ['a bad name', stateText([saved('../x', 'tiny')]), /\/tenants\/0\/name: must match pattern/],
      ['a bad rate', stateText([saved('a', 'tiny', { rate: -1 })]), /\/tenants\/0\/rate: must be > 0/],
      ['an unknown field', stateText([{ ...saved('a', 'tiny'), cores: 2 } as SavedTenant]), /cores/],
      ['no registeredAt', '{"version":1,"tenants":[{"name":"a","model":"tiny"}]}', /registeredAt/],
      ['a duplicate', stateText([saved('a', 'tiny'), saved('a', 'testnet')]), /duplicate tenant name "a"/],
      ['bad UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8/],
    ];
    for (const [what, content, why] of cases) {
      const dir = await freshDir('shape');
      await writeFile(join(dir, TENANT_STATE_FILE), content);
      const logs: Log[] = [];
      const state = await openTenantState(dir, memoryLogger(logs));
      expect(state.saved, what).toEqual([]);
      expect(await asideFiles(dir), what).toHaveLength(1);
      expect(warnings(logs), what).toEqual([
        expect.objectContaining({ problem: expect.stringMatching(why) }),
      ]);
      await state.close();
    }
    // Not a regular file: read as nothing (a FIFO would hang a plain read), moved aside.
    const fifoDir = await freshDir('fifo');
    await run('mkfifo', [join(fifoDir, TENANT_STATE_FILE)]);
    const dirDir = await freshDir('dir');
    await mkdir(join(dirDir, TENANT_STATE_FILE));
    for (const dir of [fifoDir, dirDir]) {
      const logs: Log[] = [];
      const state = await openTenantState(dir, memoryLogger(logs));
      expect(warnings(logs)).toEqual([expect.objectContaining({ problem: 'it is not a regular file' })]);
      expect(await asideFiles(dir)).toHaveLength(1);
      await state.save({ name: 'a', model: 'tiny' });
      await state.close();
    }
  });

  it('one server per directory: a second one neither restores nor saves; a dead one’s lock and temporary files go', async () => {
    const dir = await freshDir('lock');
    const first = await openTenantState(dir, memoryLogger([]));
    await first.save({ name: 'a', model: 'tiny' });
    const logs: Log[] = [];
    const second = await openTenantState(dir, memoryLogger(logs));
    expect(second.owned).toBe(false);
    expect(second.saved).toEqual([]);
    expect(warnings(logs)).toEqual([expect.objectContaining({ pid: process.pid })]);
    await expect(second.save({ name: 'b', model: 'tiny' })).rejects.toMatchObject({
      code: 'SWAPLESS_IO',
      details: { reason: 'state-not-saved' },
      message: expect.stringMatching(/in use by another server process \(pid \d+\)$/),
    });
    await second.close();
    expect((await readState(dir)).tenants.map((t) => t.name)).toEqual(['a']);
    await first.close();
    expect(existsSync(join(dir, STATE_LOCK_FILE))).toBe(false);

    // A server killed with SIGKILL leaves its lock and maybe a temporary file: the next one takes over.
    const dead = spawn(process.execPath, ['-e', '']);
    const pid = dead.pid!;
    await new Promise((resolve) => dead.once('exit', resolve));
    await writeFile(join(dir, STATE_LOCK_FILE), `${pid}\n`);
    const leftover = join(dir, `${TENANT_STATE_FILE}.${pid}.0badf00d.tmp`);
    await writeFile(leftover, '{"version":1,"ten');
    const next = await openTenantState(dir, memoryLogger([]));
    expect(next.owned).toBe(true);
    expect(next.saved.map((t) => t.name)).toEqual(['a']);
    expect(existsSync(leftover)).toBe(false);
    expect((await readFile(join(dir, STATE_LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await next.close();
  });

  it('a write that fails changes nothing and says why without a host path', async () => {
    const dir = await freshDir('unwritable');
    const state = await openTenantState(dir, memoryLogger([]));
    await state.save({ name: 'a', model: 'tiny' });
    // The directory is replaced by a file (works as root too, where permissions would not stop a write).
    await rm(dir, { recursive: true });
    await writeFile(dir, 'not a directory');
    for (const change of [() => state.save({ name: 'b', model: 'tiny' }), () => state.delete('a')]) {
      const error = await change().then(
        () => null,
        (e: unknown) => e as Error & { details: Record<string, unknown> },
      );
      expect(error).toMatchObject({
        code: 'SWAPLESS_IO',
        // mkdir of a path that is a file: EEXIST; a path through a file: ENOTDIR.
        details: { reason: 'state-not-saved', errno: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) },
      });
      expect(error!.message).toMatch(
        /^Expected a usable state directory to (save|remove) the registration of tenant "[ab]" but writing failed \((ENOTDIR|EEXIST)\)$/,
      );
      expect(error!.message).not.toContain(work);
    }
    expect(state.list().map((t) => t.name)).toEqual(['a']);
    await state.close();
  });
});

describe('startServer and the saved tenants', () => {
  it('every prefix of a small state file: startup never fails; an invalid one is moved aside with a warning', async () => {
    const bytes = Buffer.from(
      `{"version":1,"tenants":[{"name":"a","model":"tiny","registeredAt":"2026-01-02T03:04:05Z"}]}`,
    );
    for (let n = 0; n <= bytes.length; n++) {
      const dir = await freshDir('server-prefix');
      await writeFile(join(dir, TENANT_STATE_FILE), bytes.subarray(0, n));
      const logs: Log[] = [];
      const server = await startServer(config(dir, { examples: false }), {
        logger: memoryLogger(logs),
        progress: false,
      });
      try {
        if (n === bytes.length) {
          expect(server.service.tenantNames()).toEqual(['a']);
          expect(warnings(logs)).toEqual([]);
          // No examples, no demo load either.
          expect(server.demoLoad).toBeNull();
          expect((await fetch(`${server.urls.base}/examples/demo-load.json`)).status).toBe(404);
        } else {
          expect(server.service.tenantNames(), `${n} bytes`).toEqual([]);
          expect(await asideFiles(dir), `${n} bytes`).toHaveLength(1);
          expect(
            warnings(logs).map((l) => l.msg),
            `${n} bytes`,
          ).toEqual([expect.stringMatching(/moved aside/)]);
        }
        expect(server.failed).toEqual([]);
      } finally {
        await server.close();
      }
    }
  });

  it('restores after the config tenants: the config wins a name, a missing model is kept and reported, DELETE drops it', async () => {
    const dir = await freshDir('restore');
    await writeFile(
      join(dir, TENANT_STATE_FILE),
      stateText([
        saved('net', 'tiny', { rate: 3 }),
        saved('ghost', 'nosuchmodel', { rate: 2 }),
        saved('kept', 'tiny', { rate: 3, sloMs: 40 }),
      ]),
    );
    // An example file of a tenant that is gone: removed at startup.
    await mkdir(join(dir, 'examples'));
    await writeFile(examplePath(dir, 'old'), '{}');
    await writeFile(`${examplePath(dir, 'old')}.4242.0badf00d.tmp`, '{');
    await writeFile(join(dir, 'examples', 'notes.txt'), 'mine');
    const logs: Log[] = [];
    const server = await startServer(
      config(dir, { tenants: [{ name: 'net', model: 'testnet', rate: 20 }] }),
      {
        logger: memoryLogger(logs),
        progress: false,
      },
    );
    try {
      expect(server.service.tenantNames()).toEqual(['net', 'kept']);
      expect(server.service.tenant('net')!.source).toBe('repository:testnet');
      expect(server.service.tenant('kept')).toMatchObject({ sloMs: 40, rate: { priorPerS: 3 } });
      expect(server.failed).toEqual([
        {
          name: 'net',
          code: 'SWAPLESS_INVALID_ARGUMENT',
          message: expect.stringMatching(/config's tenant wins/),
          from: 'state',
        },
        {
          name: 'ghost',
          code: 'SWAPLESS_INVALID_ARGUMENT',
          message: expect.stringMatching(/nosuchmodel/),
          from: 'state',
        },
      ]);
      expect(warnings(logs).map((l) => [l.tenant, l.msg])).toEqual([
        ['net', expect.stringMatching(/^saved tenant not restored: /)],
        ['ghost', expect.stringMatching(/^saved tenant not restored \(kept in the state/)],
      ]);
      const banner = testBanner(server);
      expect(banner).toContain('! saved tenant ghost was not restored: ');
      // The shadowed one is dropped; the one whose model is missing is kept for the next start.
      expect((await readState(dir)).tenants.map((t) => t.name)).toEqual(['ghost', 'kept']);
      expect((await readdir(join(dir, 'examples'))).sort()).toEqual(['kept.json', 'net.json', 'notes.txt']);
      expect(Object.keys(server.examples).sort()).toEqual(['kept', 'net']);
      await infersTiny(server.urls.base, 'kept', 1);
      // Not served, so GET does not know it; DELETE drops the saved registration once.
      expect((await fetch(`${server.urls.management}/tenants/ghost`)).status).toBe(404);
      expect((await fetch(`${server.urls.management}/tenants/ghost`, { method: 'DELETE' })).status).toBe(204);
      expect((await readState(dir)).tenants.map((t) => t.name)).toEqual(['kept']);
      expect((await fetch(`${server.urls.management}/tenants/ghost`, { method: 'DELETE' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('concurrent registrations over HTTP are all saved', async () => {
    const dir = await freshDir('parallel');
    const server = await startServer(config(dir), { progress: false });
    try {
      const names = ['p0', 'p1', 'p2', 'p3'];
      const answers = await Promise.all(
        names.map((name, i) =>
          postJson(server.urls.base, '/api/v1/tenants', { name, model: 'tiny', rate: i + 1 }),
        ),
      );
      expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      const doc = await readState(dir);
      expect(doc.tenants.map((t) => t.name).sort()).toEqual(names);
      expect(doc.tenants.map((t) => [t.name, t.rate]).sort()).toEqual(names.map((n, i) => [n, i + 1]));
      // The demo load follows the tenants: sized again for the four registered since the start.
      expect(server.demoLoad).toBeNull();
      const demo = (await (await fetch(`${server.urls.base}/examples/demo-load.json`)).json()) as {
        tenants: { name: string }[];
      };
      expect(demo.tenants.map((t) => t.name).sort()).toEqual(names);
    } finally {
      await server.close();
    }
  });

  it('a state directory that cannot be written: a registration is a 500 (SWAPLESS_IO) and undone, a removal a 500 with the tenant still served', async () => {
    // Unusable from the start: the path runs through a regular file.
    const blocker = join(await freshDir('blocked'), 'file');
    await writeFile(blocker, 'x');
    const logs: Log[] = [];
    const blocked = await startServer(
      config(join(blocker, 'state'), { tenants: [{ name: 'cfg', model: 'tiny' }] }),
      {
        logger: memoryLogger(logs),
        progress: false,
      },
    );
    try {
      expect(blocked.service.tenantNames()).toEqual(['cfg']);
      expect(logs.filter((l) => l.level === 50).map((l) => l.msg)).toContain(
        'the state directory cannot be created: registrations will not be saved',
      );
      const r = await postJson(blocked.urls.base, '/api/v1/tenants', { name: 'x', model: 'tiny' });
      expect(r.status).toBe(500);
      const body = (await r.json()) as { error: string; code: string };
      expect(body.code).toBe('SWAPLESS_IO');
      expect(body.error).toMatch(
        /^Expected a usable state directory to save the registration of tenant "x" but writing failed \(ENOTDIR\); the tenant was not registered$/,
      );
      expect(body.error).not.toContain(work);
      expect(blocked.service.tenantNames()).toEqual(['cfg']);
      expect((await fetch(`${blocked.urls.management}/tenants/x`)).status).toBe(404);
      // A config tenant is not in the state: removing it saves nothing and works.
      expect((await fetch(`${blocked.urls.management}/tenants/cfg`, { method: 'DELETE' })).status).toBe(204);
    } finally {
      await blocked.close();
    }

    // Unusable after a registration was saved.
    const dir = await freshDir('lost');
    const server = await startServer(config(dir), { progress: false });
    try {
      expect((await postJson(server.urls.base, '/api/v1/tenants', { name: 'a', model: 'tiny' })).status).toBe(
        201,
      );
      await rm(dir, { recursive: true });
      await writeFile(dir, 'not a directory');
      const r = await postJson(server.urls.base, '/api/v1/tenants', { name: 'b', model: 'tiny' });
      expect(r.status).toBe(500);
      expect(((await r.json()) as { code: string }).code).toBe('SWAPLESS_IO');
      const d = await fetch(`${server.urls.management}/tenants/a`, { method: 'DELETE' });
      expect(d.status).toBe(500);
      expect(((await d.json()) as { error: string }).error).toMatch(
        /to remove the registration of tenant "a" but writing failed/,
      );
      expect(server.service.tenantNames()).toEqual(['a']);
      await infersTiny(server.urls.base, 'a', 2);
    } finally {
      await server.close();
    }
  });
});

describe('the program (bin/swapless-server.js) killed with SIGKILL', () => {
  it('serves the same registered tenants after a restart; a removed one, and its example file, stay gone', async () => {
    const dir = await freshDir('kill');
    const configPath = join(work, 'kill.json');
    await writeFile(configPath, JSON.stringify({ ...config(dir), logLevel: 'info' }));

    let p = await startServerProcess(configPath);
    let base = p.summary.urls.base;
    expect(p.summary.tenants).toEqual([]);
    expect(
      (await postJson(base, '/api/v1/tenants', { name: 'cam', model: 'tiny', rate: 7, sloMs: 30 })).status,
    ).toBe(201);
    expect((await postJson(base, '/api/v1/tenants', { name: 'door', model: 'tiny' })).status).toBe(201);
    expect(existsSync(examplePath(dir, 'door'))).toBe(true);
    p.child.kill('SIGKILL');
    expect(await p.exited).toBeNull();

    p = await startServerProcess(configPath);
    base = p.summary.urls.base;
    expect(p.summary.failed).toEqual([]);
    const tenants = await listTenants(base);
    expect(tenants.map((t) => [t.name, t.source, t.rate.priorPerS, t.sloMs])).toEqual([
      ['cam', 'repository:tiny', 7, 30],
      // Registered without a rate or an objective: the model's defaults again (config.json's sloMs).
      ['door', 'repository:tiny', 1, 50],
    ]);
    await infersTiny(base, 'cam', 3);
    await infersTiny(base, 'door', 4);

    expect((await fetch(`${base}/api/v1/tenants/door`, { method: 'DELETE' })).status).toBe(204);
    expect(existsSync(examplePath(dir, 'door'))).toBe(false);
    expect((await readState(dir)).tenants.map((t) => t.name)).toEqual(['cam']);
    p.child.kill('SIGKILL');
    await p.exited;

    p = await startServerProcess(configPath);
    base = p.summary.urls.base;
    expect((await listTenants(base)).map((t) => t.name)).toEqual(['cam']);
    expect((await fetch(`${base}/v2/models/door`)).status).toBe(404);
    expect(existsSync(examplePath(dir, 'door'))).toBe(false);
    await infersTiny(base, 'cam', 5);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    // A clean stop releases the directory.
    expect(existsSync(join(dir, STATE_LOCK_FILE))).toBe(false);
  });
});
