// Vetting on the real runtime: the hostile fixtures really crash a child process, and this (the parent) process
// carries on. Hangs, memory and odd exits are simulated with the `command` test hook, never waited out for real.
// The vetting process is dist/vet-child.js: `turbo run test` builds it first.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ErrorCodes,
  InvalidArgumentError,
  InvalidModelError,
  ModelRejectedError,
  SwapLessIoError,
} from '@swapless/core';
import { writeModel } from '@swapless/tflite';
import { divisionByZeroModel } from '@swapless/tflite/testing';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { fixtureModels } from '../../../tools/test-fixtures.mjs';
import { createInterpreter, Vetter } from './index.js';
import { FACE_SHORT, pseudoRandom } from './test-support.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/models/', import.meta.url));
const HOSTILE = fixtureModels('hostile').map((f) => f.path);
const CORAL_GOOD = join(fixtures, 'coral', 'tf2_mobilenet_v2_1.0_224_ptq.tflite');
/** Valid by every rule the verifier checks, yet TFLite dies of SIGFPE on invoke: int32 x / (x − x). */
const DIVIDES_BY_ZERO = writeModel(divisionByZeroModel());
const dirs: string[] = [];
/** What the real vetting process writes before a risky step: a simulated child says it too, to count as "ran". */
const SAY_INVOKE = `require('fs').writeSync(3, JSON.stringify({ kind: 'stage', stage: 'invoke', configuration: 0 }) + '\\n')`;

/** A vetter with a cache of its own (tests never touch the user's cache). */
function vetter(options: ConstructorParameters<typeof Vetter>[0] = {}): Vetter {
  const dir = mkdtempSync(join(tmpdir(), 'swapless-vet-'));
  dirs.push(dir);
  return new Vetter({ cacheDir: dir, ...options });
}

/** A vetter whose "vetting process" is this script instead (the job and the model are ignored). */
function simulated(script: string, options: ConstructorParameters<typeof Vetter>[0] = {}): Vetter {
  return vetter({ command: [process.execPath, '-e', script], ...options });
}

async function rejection(p: Promise<unknown>): Promise<ModelRejectedError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelRejectedError);
  return error as ModelRejectedError;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('vetModel on the hostile fixtures (each killed a TFLite process)', () => {
  it('fixtures exist: five of them', () => {
    expect(HOSTILE).toHaveLength(5);
  });

  it.each(HOSTILE.map((f) => [f.split('/').pop()!, f]))(
    '%s is refused by the verification the child runs first: InvalidModelError, passed on, not cached',
    async (_name, path) => {
      const v = vetter();
      const error = await v.vet(path).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidModelError);
      expect((error as InvalidModelError).code).toBe(ErrorCodes.INVALID_MODEL);
      expect(v.stats()).toMatchObject({ spawned: 1, errors: 1, rejected: 0 });
    },
  );

  it.each(HOSTILE.map((f) => [f.split('/').pop()!, f]))(
    '%s, loaded unverified in the child, kills it by a signal and is rejected with that reason',
    async (_name, path) => {
      const v = vetter();
      const error = await rejection(v.vet(path, { interpreter: { verify: false } }));
      expect(error.details.reason).toMatch(/^signal SIG[A-Z]+$/);
      expect(['create', 'set-input', 'invoke', 'get-output', 'dispose']).toContain(error.details.stage);
      expect(v.stats().spawned).toBe(1);
    },
  );

  it('a model no verifier can fault (a run-time division by zero) is rejected: SIGFPE during invoke', async () => {
    const error = await rejection(vetter().vet(DIVIDES_BY_ZERO));
    // A crash is the model's doing: a verdict worth keeping (details.cacheable).
    expect(error.details).toMatchObject({ reason: 'signal SIGFPE', stage: 'invoke', cacheable: true });
  });

  it('the parent process is unharmed: it still loads and runs a model', () => {
    const it = createInterpreter(FACE_SHORT);
    try {
      it.setInput(0, pseudoRandom(128 * 128 * 3, 5));
      it.invoke();
      expect((it.getOutput(0) as Float32Array).some((x) => x !== 0)).toBe(true);
    } finally {
      it.dispose();
    }
  });
});

describe('vetModel on good models', () => {
  it('accepts the MediaPipe face model and reports what it saw', async () => {
    const r = await vetter().vet(FACE_SHORT);
    expect(r.cached).toBe(false);
    expect(r.key).toMatch(/^[0-9a-f]{64}$/);
    expect(r.configurations).toBe(1);
    expect(r.inputs).toEqual([{ name: 'input', type: 'FLOAT32', shape: [1, 128, 128, 3] }]);
    expect(r.outputs.map((o) => o.shape)).toEqual([
      [1, 896, 16],
      [1, 896, 1],
    ]);
  });

  it("accepts Coral's TF2 MobileNet v2 (uint8 at the edges), with and without XNNPACK in one process", async () => {
    const v = vetter();
    const r = await v.vet(readFileSync(CORAL_GOOD), {
      interpreter: [
        { threads: 2, xnnpack: true },
        { threads: 1, xnnpack: false },
      ],
    });
    expect(r.configurations).toBe(2);
    expect(r.inputs[0]).toMatchObject({ type: 'UINT8', shape: [1, 224, 224, 3] });
    expect(v.stats().spawned).toBe(1);
  });

  it("uses the caller's delegate: the Edge TPU delegate (mock library) is created in the child", async () => {
    const r = await vetter().vet(FACE_SHORT, {
      interpreter: { delegate: 'edgetpu', edgetpu: { library: inject('mockEdgeTpuLibrary') } },
    });
    expect(r.outputs).toHaveLength(2);
    const missing = await vetter()
      .vet(FACE_SHORT, {
        interpreter: { delegate: 'edgetpu', edgetpu: { library: '/nonexistent/libedgetpu.so.1' } },
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    // A clean failure in the child comes back as the same typed error, not as a rejection.
    expect((missing as { code?: string }).code).toBe(ErrorCodes.DELEGATE_UNAVAILABLE);
  });
});

describe('typed errors from the child keep their class, code and message', () => {
  it('bytes that are not a model: InvalidModelError', async () => {
    const v = vetter();
    const error = await v.vet(new Uint8Array(64), { label: 'junk' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidModelError);
    expect((error as InvalidModelError).code).toBe(ErrorCodes.INVALID_MODEL);
    expect((error as Error).message).toMatch(/^Expected TFLite model bytes/);
    // Passed on, not stored: a newer build may verify differently.
    await expect(v.vet(new Uint8Array(64))).rejects.toBeInstanceOf(InvalidModelError);
    expect(v.stats()).toMatchObject({ spawned: 2, cacheHits: 0, errors: 2 });
  });

  it('bad interpreter options refused by the child: InvalidArgumentError, not cached', async () => {
    const v = vetter();
    await expect(v.vet(FACE_SHORT, { interpreter: { threads: 0 } })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(v.vet(FACE_SHORT, { interpreter: { threads: 0 } })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(v.stats().spawned).toBe(2);
  });

  it('a missing file: SwapLessIoError before any process starts', async () => {
    const v = vetter();
    await expect(v.vet('/nonexistent/model.tflite')).rejects.toBeInstanceOf(SwapLessIoError);
    expect(v.stats().spawned).toBe(0);
  });

  it('bad vet options: InvalidArgumentError', async () => {
    const v = vetter();
    await expect(v.vet(FACE_SHORT, { timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(v.vet(FACE_SHORT, { interpreter: 'fast' as never })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(v.vet(FACE_SHORT, { seed: 1.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(v.vet(42 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => new Vetter({ concurrency: 0 })).toThrow(InvalidArgumentError);
    expect(v.stats().spawned).toBe(0);
  });
});

describe('the verdict cache', () => {
  it('a second vet of the same bytes and options spawns no process; other options do', async () => {
    const v = vetter();
    const first = await v.vet(FACE_SHORT);
    const second = await v.vet(readFileSync(FACE_SHORT));
    expect(second.cached).toBe(true);
    expect(second.key).toBe(first.key);
    expect(v.stats()).toMatchObject({ spawned: 1, cacheHits: 1 });
    // Defaults filled in: {} and the explicit defaults are the same key.
    await v.vet(FACE_SHORT, { interpreter: { threads: 1, xnnpack: true, delegate: 'cpu' } });
    expect(v.stats().spawned).toBe(1);
    const other = await v.vet(FACE_SHORT, { interpreter: { xnnpack: false } });
    expect(other.key).not.toBe(first.key);
    expect(v.stats().spawned).toBe(2);
  });

  it('rejections are cached too, and say so', async () => {
    const v = vetter();
    const a = await rejection(v.vet(DIVIDES_BY_ZERO));
    const b = await rejection(v.vet(DIVIDES_BY_ZERO.slice(), { label: 'again' }));
    expect(v.stats().spawned).toBe(1);
    expect(b.details).toMatchObject({ reason: a.details.reason, cached: true, model: 'again' });
    expect(b.message).toContain('again');
  });

  it('a corrupt cache entry is ignored and replaced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swapless-vet-'));
    dirs.push(dir);
    const v = new Vetter({ cacheDir: dir });
    const { key } = await v.vet(FACE_SHORT);
    for (const junk of ['{"v":1,"verdict":"accepted"', '{"v":1,"verdict":"maybe"}', '[]', '']) {
      writeFileSync(join(dir, `${key}.json`), junk);
      const r = await v.vet(FACE_SHORT);
      expect(r.cached).toBe(false);
      expect(JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')).verdict).toBe('accepted');
    }
    expect(v.stats().spawned).toBe(5);
  });

  it('cache: false bypasses it (no read, no write)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'swapless-vet-'));
    dirs.push(dir);
    const v = new Vetter({ cacheDir: dir });
    await v.vet(FACE_SHORT, { cache: false });
    await v.vet(FACE_SHORT, { cache: false });
    expect(v.stats().spawned).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('how a vetting process can end (simulated children)', () => {
  it('a hang: killed at the timeout, rejected, not cached', async () => {
    const v = simulated('setInterval(() => {}, 1000)');
    const e = await rejection(v.vet(FACE_SHORT, { timeoutMs: 300, label: 'slow.tflite' }));
    expect(e.details).toMatchObject({ reason: 'timeout after 300 ms', cacheable: false });
    expect(e.message).toMatch(/^Rejected slow\.tflite: .*timeout after 300 ms/);
    await rejection(v.vet(FACE_SHORT, { timeoutMs: 300 }));
    expect(v.stats().spawned).toBe(2);
  });

  it("the child's watchdog ended it at its deadline (this process too busy to): a timeout, not cached", async () => {
    const v = simulated(
      `require('fs').writeSync(3, JSON.stringify({ kind: 'deadline' }) + '\\n'); process.kill(process.pid, 'SIGKILL')`,
    );
    const e = await rejection(v.vet(FACE_SHORT, { timeoutMs: 60_000 }));
    expect(e.details).toMatchObject({ reason: 'timeout after 60000 ms', cacheable: false });
    await rejection(v.vet(FACE_SHORT, { timeoutMs: 60_000 }));
    expect(v.stats()).toMatchObject({ spawned: 2, cacheHits: 0 });
  });

  it('SIGKILL from outside (an OOM killer, an operator) says nothing about the model: not cached', async () => {
    const v = simulated(`${SAY_INVOKE}; process.kill(process.pid, 'SIGKILL')`);
    const e = await rejection(v.vet(FACE_SHORT));
    expect(e.details).toMatchObject({ reason: 'signal SIGKILL', cacheable: false });
    await rejection(v.vet(FACE_SHORT));
    expect(v.stats().spawned).toBe(2);
  });

  it('the job gives the child a deadline past the timeout and the pid of its parent (for its watchdog)', async () => {
    const check = `const job = JSON.parse(process.argv.at(-1));
      const ok = job.deadlineMs === 1500 + 1000 && job.parentPid === process.ppid;
      require('fs').writeSync(3, JSON.stringify({ kind: 'done', ms: 0, shapes: { inputs: [], outputs: [] } }) + '\\n');
      process.exit(ok ? 0 : 5);`;
    const r = await simulated(check).vet(FACE_SHORT, { timeoutMs: 1500 });
    expect(r.cached).toBe(false);
  });

  it('a signal the fixtures do not cover (SIGFPE) is named', async () => {
    const e = await rejection(simulated("process.kill(process.pid, 'SIGFPE')").vet(FACE_SHORT));
    expect(e.details).toMatchObject({ reason: 'signal SIGFPE', signal: 'SIGFPE' });
  });

  it('over the memory limit: killed and rejected with the sizes', async () => {
    const v = simulated('globalThis.keep = Buffer.alloc(96 * 1024 * 1024, 1); setInterval(() => {}, 1000)');
    const e = await rejection(v.vet(FACE_SHORT, { memoryLimitBytes: 48 * 1024 * 1024, timeoutMs: 60_000 }));
    expect(e.details.reason).toMatch(/^memory limit exceeded \(\d+ MiB > 48 MiB\)$/);
  });

  it('an abnormal exit after the model was looked at: rejected with the exit code and the stage', async () => {
    const e = await rejection(simulated(`${SAY_INVOKE}; process.exit(7)`).vet(FACE_SHORT));
    expect(e.details).toMatchObject({ reason: 'exit code 7', stage: 'invoke', exitCode: 7 });
    expect(e.message).toContain('exit code 7 during invoke');
  });

  it('a process that cannot even start its work is an installation problem, not a verdict', async () => {
    await expect(simulated('process.exit(3)').vet(FACE_SHORT)).rejects.toMatchObject({
      code: ErrorCodes.NATIVE_LOAD,
    });
    const missing = vetter({ command: ['/nonexistent/node'] });
    await expect(missing.vet(FACE_SHORT)).rejects.toBeInstanceOf(SwapLessIoError);
  });
});

describe('concurrency', () => {
  it('runs at most `concurrency` processes; the same model vetted twice at once shares one', async () => {
    const v = simulated(`${SAY_INVOKE}; setTimeout(() => process.exit(9), 400)`, { concurrency: 1 });
    const models = [1, 2, 3].map((n) => new Uint8Array(64).fill(n));
    const pending = [...models, models[0]!].map((m) => rejection(v.vet(m)));
    await vi.waitFor(() => expect(v.stats()).toMatchObject({ running: 1, queued: 2 }));
    await Promise.all(pending);
    expect(v.stats()).toMatchObject({ spawned: 3, running: 0, queued: 0, rejected: 4 });
  });
});
