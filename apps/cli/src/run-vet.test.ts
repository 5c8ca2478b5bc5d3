// `swapless run`'s default path: read → verify → vet (a child process loads and invokes first) → load here.
// The hostile fixtures each killed a TFLite process; here every one must end in exit 1 with a typed error.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultVetter } from '@swapless/edgetpu';
import { describe, expect, it } from 'vitest';
import { defaultModelPath } from './model-file.js';
import { cli, useTempCache } from './test-util.js';

const FACE = defaultModelPath();
const HOSTILE_DIR = fileURLToPath(new URL('../../../fixtures/models/hostile/', import.meta.url));
const HOSTILE = readdirSync(HOSTILE_DIR)
  .filter((f) => f.endsWith('.tflite'))
  .map((f) => join(HOSTILE_DIR, f));
const BIN = fileURLToPath(new URL('../bin/swapless.js', import.meta.url));
const TYPED_REFUSALS = ['SWAPLESS_MODEL_REJECTED', 'SWAPLESS_INVALID_MODEL', 'SWAPLESS_UNSUPPORTED_MODEL'];

useTempCache('run-vet');

/** One quick run on the CPU, JSON out. */
const ONCE = ['--json', '--repeat', '1', '--warmup', '0', '--delegate', 'cpu'];

/** The real `swapless` binary in its own process: how it ended. */
function runBinary(
  ...args: string[]
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (_error, stdout) =>
      resolve({ code: child.exitCode, signal: child.signalCode, stdout }),
    );
  });
}

describe('swapless run on the hostile fixtures', () => {
  it('has the five fixtures', () => {
    expect(HOSTILE).toHaveLength(5);
  });

  it.each(HOSTILE.map((f) => [f.split('/').pop()!, f]))(
    '%s: the swapless process exits 1 with a typed error, never by a signal',
    async (_name, path) => {
      const r = await runBinary('run', path, '--json', '--repeat', '1', '--warmup', '0');
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      const error = JSON.parse(r.stdout).error;
      expect(TYPED_REFUSALS).toContain(error.code);
      if (error.code === 'SWAPLESS_MODEL_REJECTED') expect(error.details.reason).toMatch(/^signal SIG/);
    },
  );

  it('in-process too: every hostile file is refused and this process carries on', async () => {
    for (const path of HOSTILE) {
      const r = await cli('run', path, '--repeat', '1', '--warmup', '0', '--delegate', 'cpu');
      expect(r.status).toBe(1);
      expect(r.err).toMatch(/\[SWAPLESS_(MODEL_REJECTED|INVALID_MODEL|UNSUPPORTED_MODEL)\]/);
    }
    const ok = await cli('run', FACE, '--json', '--repeat', '1', '--warmup', '0', '--delegate', 'cpu');
    expect(ok.status).toBe(0);
  });
});

describe('swapless run: vetting costs one process per file and options, once', () => {
  it('a good model is vetted on the first run and served from the cache on the second', async () => {
    const args = ['run', FACE, ...ONCE, '--threads', '2'];
    const before = defaultVetter().stats().spawned;
    expect((await cli(...args)).status).toBe(0);
    expect(defaultVetter().stats().spawned).toBe(before + 1);
    expect((await cli(...args)).status).toBe(0);
    expect(defaultVetter().stats().spawned).toBe(before + 1);
  });

  it('--trusted skips verification and vetting (and says so in --help)', async () => {
    const before = defaultVetter().stats();
    const r = await cli('run', FACE, ...ONCE, '--trusted');
    expect(r.status).toBe(0);
    const after = defaultVetter().stats();
    expect(after.spawned).toBe(before.spawned);
    expect(after.cacheHits).toBe(before.cacheHits);
    const help = await cli('run', '--help');
    expect(help.out).toMatch(/--trusted\s+skip verification and vetting/);
  });
});
