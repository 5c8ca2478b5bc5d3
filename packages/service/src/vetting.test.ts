// Vetting at model load: the hostile fixtures (each killed a TFLite process) are refused with a typed error by
// addTenant and by the repository, and the service keeps serving its other tenants meanwhile and afterwards.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, isSwapLessError, ModelRejectedError, SwapLessIoError } from '@swapless/core';
import { createInterpreter, defaultVetter, Vetter, vetModel } from '@swapless/edgetpu';
import { buildTestNet, SeededRandom, writeModel } from '@swapless/tflite';
import { divisionByZeroModel } from '@swapless/tflite/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createService, ModelRepository, type Service, type ServiceOptions } from './index.js';

const HOSTILE_DIR = fileURLToPath(new URL('../../../fixtures/models/hostile/', import.meta.url));
const HOSTILE = readdirSync(HOSTILE_DIR)
  .filter((f) => f.endsWith('.tflite'))
  .sort();
/** How a hostile model may be refused: rejected by vetting, or found malformed by verification first. */
const REFUSALS = [ErrorCodes.MODEL_REJECTED, ErrorCodes.INVALID_MODEL, ErrorCodes.UNSUPPORTED_MODEL];
const GOOD = writeModel(buildTestNet(0));

function input(seed: number): Int8Array {
  const a = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(a);
  return a;
}

function reference(x: Int8Array): number[] {
  const it = createInterpreter(GOOD, { threads: 1 });
  try {
    it.setInput(0, x);
    it.invoke();
    return Array.from(it.getOutput(0) as Int8Array);
  } finally {
    it.dispose();
  }
}

let previousCache: string | undefined;
let work: string;
beforeAll(async () => {
  previousCache = process.env.SWAPLESS_CACHE_DIR;
  work = await mkdtemp(join(tmpdir(), 'swapless-vetting-'));
  process.env.SWAPLESS_CACHE_DIR = join(work, 'cache');
});
afterAll(() => {
  if (previousCache === undefined) delete process.env.SWAPLESS_CACHE_DIR;
  else process.env.SWAPLESS_CACHE_DIR = previousCache;
});

const open: Service[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function service(options: ServiceOptions = {}): Promise<Service> {
  const s = await createService({
    cores: 1,
    tickMs: 3_600_000,
    profiling: { repetitions: 2, maxCuts: 3 },
    emulator: { timeScale: 0 },
    policy: 'fixed',
    ...options,
  });
  open.push(s);
  return s;
}

async function stillServes(s: Service, seed: number): Promise<void> {
  const x = input(seed);
  const { outputs } = await s.infer('good', [x]);
  expect(Array.from(outputs[0] as Int8Array)).toEqual(reference(x));
}

describe('Service.addTenant vets before it loads', () => {
  it('refuses every hostile fixture with a typed error naming the tenant, and keeps serving', async () => {
    expect(HOSTILE).toHaveLength(5);
    const s = await service();
    await s.addTenant({ name: 'good', model: GOOD, source: 'test:good' });
    for (const [i, file] of HOSTILE.entries()) {
      const bytes = new Uint8Array(await readFile(join(HOSTILE_DIR, file)));
      const error = await s
        .addTenant({ name: `h${i}`, model: bytes, source: `test:${file}` })
        .catch((e) => e);
      expect(isSwapLessError(error)).toBe(true);
      expect(REFUSALS).toContain(error.code);
      if (error instanceof ModelRejectedError) {
        expect(error.details.reason).toMatch(/^signal SIG/);
        expect(error.message).toContain(`tenant h${i}`);
      }
      await stillServes(s, i);
    }
    // The verifier refuses every hostile fixture before a child is spawned; a model no verifier can fault (a
    // division by a run-time zero) reaches the vetting process, kills it, and is rejected naming the tenant.
    const crash = await s
      .addTenant({ name: 'crash', model: writeModel(divisionByZeroModel()), source: 'test:div0' })
      .catch((e) => e);
    expect(crash).toBeInstanceOf(ModelRejectedError);
    expect(crash.details).toMatchObject({ reason: 'signal SIGFPE', stage: 'invoke' });
    expect(crash.message).toContain('tenant crash');
    await stillServes(s, 99);
    expect(s.tenantNames()).toEqual(['good']);
  });

  it('vets off the event loop: other tenants are served while a vetting process runs', async () => {
    // A simulated vetting process: it accepts the good model at once (the verdict the real one gives), and for
    // any other takes a while and then dies by a signal, like a model crashing late in invoke.
    const script = `
      const chunks = [];
      process.stdin.on('data', (c) => chunks.push(c));
      process.stdin.on('end', () => {
        const hash = require('crypto').createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
        if (hash === '${createHash('sha256').update(GOOD).digest('hex')}') {
          const done = { kind: 'done', ms: 1, shapes: { inputs: [], outputs: [] } };
          require('fs').writeSync(3, JSON.stringify(done) + '\\n');
        } else {
          setTimeout(() => process.kill(process.pid, 'SIGSEGV'), 1500);
        }
      });`;
    const vetter = new Vetter({
      cacheDir: join(work, 'slow-vets'),
      command: [process.execPath, '-e', script],
    });
    const s = await service({ vetting: { vetter }, cores: 2 });
    await s.addTenant({ name: 'good', model: GOOD, source: 'test:good', rate: 5 });
    const adding = s.addTenant({ name: 'slow', model: writeModel(buildTestNet(3)), source: 'test:slow' });
    const outcome = adding.catch((e: unknown) => e);
    let served = 0;
    while (vetter.stats().running === 0) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 20; i++) {
      await stillServes(s, 100 + i);
      served++;
    }
    // Twenty answers while the vetting process was still running.
    expect(vetter.stats().running).toBe(1);
    expect(served).toBe(20);
    const error = await outcome;
    expect(error).toBeInstanceOf(ModelRejectedError);
    expect((error as ModelRejectedError).details.reason).toBe('signal SIGSEGV');
    expect(s.tenantNames()).toEqual(['good']);
  });

  it('vets a model once per content and options: a second tenant of the same model starts no process', async () => {
    const vetter = new Vetter({ cacheDir: join(work, 'once') });
    const s = await service({ vetting: { vetter }, cores: 2 });
    await s.addTenant({ name: 'good', model: GOOD, source: 'test:good' });
    await s.addTenant({ name: 'again', model: GOOD.slice(), source: 'test:again' });
    expect(vetter.stats()).toMatchObject({ spawned: 1, cacheHits: 1, accepted: 2 });
  });

  it('does not vet a model compiled for the Edge TPU (a child could not open the device this process holds)', async () => {
    const vetter = new Vetter({ cacheDir: join(work, 'compiled') });
    const s = await service({ vetting: { vetter } });
    const compiled = fileURLToPath(
      new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite', import.meta.url),
    );
    await s.vet(new Uint8Array(await readFile(compiled)), 'compiled');
    expect(vetter.stats().spawned).toBe(0);
    await s.vet(GOOD, 'good');
    expect(vetter.stats().spawned).toBe(1);
  });

  it('vetting: false loads without a vetting process (trusted models only)', async () => {
    const before = defaultVetter().stats().spawned;
    const s = await service({ vetting: false });
    await s.addTenant({ name: 'good', model: writeModel(buildTestNet(11)), source: 'test:trusted' });
    expect(defaultVetter().stats().spawned).toBe(before);
  });

  it('validates the vetting option', async () => {
    await expect(createService({ vetting: 'yes' as never })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });
});

describe('ModelRepository with a vet hook', () => {
  let root: string;
  let calls: string[];
  const hook = async (bytes: Uint8Array, name: string) => {
    calls.push(name);
    await vetModel(bytes, { label: `repository model ${name}` });
  };

  beforeAll(async () => {
    root = join(work, 'models');
    await mkdir(join(root, 'good'), { recursive: true });
    await writeFile(join(root, 'good', 'model.tflite'), GOOD);
    for (const [i, file] of HOSTILE.entries()) {
      await mkdir(join(root, `hostile${i}`));
      await copyFile(join(HOSTILE_DIR, file), join(root, `hostile${i}`, 'model.tflite'));
    }
    await mkdir(join(root, 'crash'));
    await writeFile(join(root, 'crash', 'model.tflite'), writeModel(divisionByZeroModel()));
  });

  it('lists hostile models as rejected with the reason, or skipped with a typed code; vets each content once', async () => {
    calls = [];
    const repo = new ModelRepository({ root, zoo: false, vet: hook });
    const scan = await repo.scan();
    expect(scan.models.map((m) => m.name)).toEqual(['good']);
    expect(scan.rejected.length + scan.skipped.length).toBe(HOSTILE.length + 1);
    expect(scan.rejected.map((r) => r.name)).toContain('crash');
    for (const r of scan.rejected) {
      expect(r).toMatchObject({
        code: ErrorCodes.MODEL_REJECTED,
        reason: expect.stringMatching(/^signal SIG/),
      });
      expect(r.message).toContain(`repository model ${r.name}`);
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    for (const k of scan.skipped) expect(REFUSALS).toContain(k.code);
    const vetted = calls.length;
    // Unchanged files are not vetted again; resolving a rejected one is a typed refusal.
    await repo.scan();
    expect(calls.length).toBe(vetted);
    const name = scan.rejected[0]!.name;
    await expect(repo.resolveModel(name)).rejects.toMatchObject({
      code: ErrorCodes.MODEL_REJECTED,
      details: { reason: scan.rejected[0]!.reason, model: name },
    });
    expect(calls.length).toBe(vetted);
    // A changed file is vetted again.
    await writeFile(join(root, name, 'model.tflite'), writeModel(buildTestNet(5)));
    const after = await repo.scan();
    expect(after.models.map((m) => m.name)).toContain(name);
    expect(calls.length).toBe(vetted + 1);
  });

  it('a vetting failure that says nothing about the model is tried again on the next scan', async () => {
    let n = 0;
    const repo = new ModelRepository({
      root,
      zoo: false,
      vet: async () => {
        n++;
        if (n === 1) throw new SwapLessIoError('Cannot start the vetting process: EAGAIN');
      },
    });
    const first = await repo.scan();
    expect(first.skipped.some((k) => k.code === ErrorCodes.IO && /EAGAIN/.test(k.message))).toBe(true);
    const second = await repo.scan();
    expect(second.skipped.some((k) => k.code === ErrorCodes.IO)).toBe(false);
  });
});
