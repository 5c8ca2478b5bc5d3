// Vetting at model load: the hostile fixtures (each killed a TFLite process) are refused with a typed error by
// addTenant and by the repository, and the service keeps serving its other tenants meanwhile and afterwards.
// The verifier refuses all five before any child runs (INVALID_MODEL); a model no verifier can fault
// (divisionByZeroModel) reaches the vetting process and is rejected by the signal.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ErrorCodes,
  InvalidModelError,
  ModelRejectedError,
  SwapLessIoError,
  TfLiteRuntimeError,
} from '@swapless/core';
import { createInterpreter, defaultVetter, Vetter, vetModel } from '@swapless/edgetpu';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { divisionByZeroModel } from '@swapless/tflite/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModels } from '../../../tools/test-fixtures.mjs';
import { createService, ModelRepository, type Service, type ServiceOptions } from './index.js';

/** Paths of the hostile fixtures (fixtures/models/hostile). */
const HOSTILE = fixtureModels('hostile').map((f) => f.path);
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

/** A repository of `root` (no zoo) whose vet hook counts its calls, then does what `vet` does. */
function counting(
  root: string,
  vet: (call: number) => Promise<void>,
): { repo: ModelRepository; calls: () => number } {
  let n = 0;
  const repo = new ModelRepository({ root, zoo: false, vet: () => vet(++n) });
  return { repo, calls: () => n };
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
    const spawned = defaultVetter().stats().spawned;
    for (const [i, file] of HOSTILE.entries()) {
      const bytes = new Uint8Array(await readFile(file));
      const error = await s
        .addTenant({ name: `h${i}`, model: bytes, source: `test:${file}` })
        .catch((e) => e);
      expect(error).toBeInstanceOf(InvalidModelError);
      expect(error.code).toBe(ErrorCodes.INVALID_MODEL);
      await stillServes(s, i);
    }
    // Refused in-process by the reader's verification: no vetting process was needed.
    expect(defaultVetter().stats().spawned).toBe(spawned);
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

  it('TFLite refusing the model cleanly (here in the vetting process) is INVALID_MODEL naming the tenant', async () => {
    // A simulated vetting process that reports what the real one sends for a model TFLite will not load.
    const failure = {
      kind: 'error',
      typed: true,
      error: {
        name: 'TfLiteRuntimeError',
        code: ErrorCodes.TFLITE_RUNTIME,
        message: 'TfLiteInterpreterCreate failed: Node number 3 (CONV_2D) failed to prepare.',
        details: {},
      },
    };
    const script = `const fs = require('fs');
      fs.writeSync(3, JSON.stringify({ kind: 'stage', stage: 'create', configuration: 0 }) + '\\n');
      fs.writeSync(3, JSON.stringify(${JSON.stringify(failure)}) + '\\n');
      process.exit(1);`;
    const vetter = new Vetter({ cacheDir: join(work, 'refused'), command: [process.execPath, '-e', script] });
    const s = await service({ vetting: { vetter } });
    const error = await s.addTenant({ name: 'cam', model: GOOD, source: 'test:cam' }).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidModelError);
    expect(error.message).toBe(
      `Expected a model TFLite can load for tenant cam (test:cam) but: ${failure.error.message}`,
    );
    expect(error.details).toMatchObject({ code: ErrorCodes.TFLITE_RUNTIME, tenant: 'cam' });
    expect(error.cause).toBeInstanceOf(TfLiteRuntimeError);
    expect(s.tenantNames()).toEqual([]);
  });

  it('validates the vetting option at creation, not at the first registration', async () => {
    for (const vetting of [
      'yes',
      [],
      { timeoutMs: 0 },
      { timeoutMs: Number.NaN },
      { memoryLimitBytes: -1 },
      { cache: 'no' },
      { vetter: {} },
      { timeout: 1000 },
    ]) {
      await expect(createService({ vetting: vetting as never })).rejects.toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
      });
    }
    const ok = await service({ vetting: { timeoutMs: 5000, memoryLimitBytes: 1e9, cache: false } });
    expect(ok.ready).toBe(true);
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
      await copyFile(file, join(root, `hostile${i}`, 'model.tflite'));
    }
    await mkdir(join(root, 'crash'));
    await writeFile(join(root, 'crash', 'model.tflite'), writeModel(divisionByZeroModel()));
  });

  it('skips the hostile models as malformed, rejects the crashing one with the signal; vets each content once', async () => {
    calls = [];
    const repo = new ModelRepository({ root, zoo: false, vet: hook });
    const scan = await repo.scan();
    expect(scan.models.map((m) => m.name)).toEqual(['good']);
    expect(scan.skipped.map((k) => [k.name, k.code])).toEqual(
      HOSTILE.map((_, i) => [`hostile${i}`, ErrorCodes.INVALID_MODEL]),
    );
    expect(scan.rejected).toEqual([
      {
        name: 'crash',
        code: ErrorCodes.MODEL_REJECTED,
        reason: 'signal SIGFPE',
        message: expect.stringContaining('repository model crash'),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        retryable: false,
      },
    ]);
    expect(scan.pending).toEqual([]);
    // Only what reads cleanly is vetted.
    expect(calls.sort()).toEqual(['crash', 'good']);
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
    const { repo } = counting(root, async (n) => {
      if (n === 1) throw new SwapLessIoError('Cannot start the vetting process: EAGAIN');
    });
    const first = await repo.scan();
    const failed = first.skipped.find((k) => k.code === ErrorCodes.IO);
    // Said without the vetting error's own words (they can hold host paths); those stay in the cause, for logs.
    expect(failed?.message).toMatch(
      /the vetting process could not run it \(SWAPLESS_IO; see the server log\)/,
    );
    expect(String((failed?.cause as Error | undefined)?.message)).toMatch(/EAGAIN/);
    const second = await repo.scan();
    expect(second.skipped.some((k) => k.code === ErrorCodes.IO)).toBe(false);
  });
});

describe('ModelRepository: when vetting is slow or inconclusive', () => {
  let root: string;
  beforeAll(async () => {
    root = join(work, 'slow-models');
    for (const [name, seed] of [
      ['a', 21],
      ['b', 22],
      ['c', 23],
    ] as const) {
      await mkdir(join(root, name), { recursive: true });
      await writeFile(join(root, name, 'model.tflite'), writeModel(buildTestNet(seed)));
    }
  });

  it('vets the entries of a scan at once, not one after another', async () => {
    let inFlight = 0;
    let most = 0;
    let release!: () => void;
    const all = new Promise<void>((r) => {
      release = r;
    });
    const repo = new ModelRepository({
      root,
      zoo: false,
      vet: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        if (inFlight === 3) release();
        // Serial vetting never gets here three times at once: the scan then waits until the fallback below.
        await Promise.race([all, new Promise((r) => setTimeout(r, 5000))]);
        inFlight--;
      },
    });
    const scan = await repo.scan();
    expect(scan.models.map((m) => m.name)).toEqual(['a', 'b', 'c']);
    expect(most).toBe(3);
  });

  it('scan({ wait: false }) lists models being vetted as pending; resolveModel waits for the verdict', async () => {
    let accept!: () => void;
    const verdict = new Promise<void>((r) => {
      accept = r;
    });
    const { repo, calls } = counting(root, () => verdict);
    const first = await repo.scan({ wait: false });
    expect(first.models).toEqual([]);
    expect(first.pending.map((p) => p.name)).toEqual(['a', 'b', 'c']);
    expect(first.pending[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // A second look while they are vetted starts nothing new.
    expect((await repo.scan({ wait: false })).pending).toHaveLength(3);
    let resolved = false;
    const resolving = repo.resolveModel('b').then((m) => {
      resolved = true;
      return m;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(resolved).toBe(false);
    accept();
    expect((await resolving).source).toBe('repository:b');
    const after = await repo.scan({ wait: false });
    expect(after.models.map((m) => m.name)).toEqual(['a', 'b', 'c']);
    expect(after.pending).toEqual([]);
    expect(calls()).toBe(3);
    await expect(repo.scan({ wait: 'no' as never })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });

  it('a timeout is listed as rejected (retryable) and not vetted again by scans; resolving it vets it again', async () => {
    // A vetting process that hangs (as on a machine with both cores busy) until the test writes the marker, and
    // passes afterwards. The test writes it, not the child: a child killed by the timeout before it ran any code
    // (slow to start on a loaded host) must not make the next one hang too.
    const marker = join(work, 'hung-once');
    const script = `const fs = require('fs');
      if (!fs.existsSync(${JSON.stringify(marker)})) {
        setInterval(() => {}, 1000);
      } else {
        fs.writeSync(3, JSON.stringify({ kind: 'done', ms: 1, shapes: { inputs: [], outputs: [] } }) + '\\n');
      }`;
    const vetter = new Vetter({ cacheDir: join(work, 'hung'), command: [process.execPath, '-e', script] });
    const only = join(work, 'one-model');
    await mkdir(join(only, 'm'), { recursive: true });
    await writeFile(join(only, 'm', 'model.tflite'), GOOD);
    // The hung first vetting times out after 300 ms; later ones get time enough to start a process on a busy host.
    let vets = 0;
    const repo = new ModelRepository({
      root: only,
      zoo: false,
      vet: async (bytes, name) => {
        if (vets++ > 0) await writeFile(marker, '');
        return vetter.vet(bytes, { timeoutMs: vets === 1 ? 300 : 30_000, label: `repository model ${name}` });
      },
    });
    const first = await repo.scan();
    expect(first.rejected).toEqual([
      expect.objectContaining({ name: 'm', reason: 'timeout after 300 ms', retryable: true }),
    ]);
    expect((await repo.scan()).rejected).toHaveLength(1);
    expect(vetter.stats().spawned).toBe(1);
    // A registration resolves it: vetted again, accepted.
    const resolved = await repo.resolveModel('m');
    expect(resolved.bytes).toEqual(GOOD);
    expect(vetter.stats().spawned).toBe(2);
    expect((await repo.scan()).models.map((m) => m.name)).toEqual(['m']);
  });

  it('a rejection for a crash is kept: resolving it again starts no vetting process', async () => {
    const { repo, calls } = counting(root, async () => {
      throw new ModelRejectedError('Rejected: signal SIGSEGV', { details: { reason: 'signal SIGSEGV' } });
    });
    const scan = await repo.scan();
    expect(scan.rejected.map((r) => [r.name, r.retryable])).toEqual([
      ['a', false],
      ['b', false],
      ['c', false],
    ]);
    await expect(repo.resolveModel('a')).rejects.toBeInstanceOf(ModelRejectedError);
    expect(calls()).toBe(3);
  });
});
