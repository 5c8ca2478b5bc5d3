// `swapless run`'s default path: read → verify → runnable here? → vet (a child process loads and invokes first) →
// load here. The hostile fixtures each killed a TFLite process; here every one must end in exit 1 with the
// verifier's typed error (SWAPLESS_INVALID_MODEL), before any child is started.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defaultVetter } from '@swapless/edgetpu';
import { describe, expect, it } from 'vitest';
import { fixtureModels } from '../../../tools/test-fixtures.mjs';
import { defaultModelPath } from './model-file.js';
import { cli, useTempCache } from './test-util.js';

const FACE = defaultModelPath();
const HOSTILE = fixtureModels('hostile').map((f) => f.path);
const BIN = fileURLToPath(new URL('../bin/swapless.js', import.meta.url));
/** MediaPipe's selfie segmentation: custom op Convolution2DTransposeBias, which TFLite 2.9 does not have. */
const SELFIE = createRequire(import.meta.url).resolve(
  '@mediapipe/selfie_segmentation/selfie_segmentation.tflite',
);
const COMPILED = fileURLToPath(
  new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite', import.meta.url),
);

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
    '%s: the swapless process exits 1 with SWAPLESS_INVALID_MODEL, never by a signal',
    async (_name, path) => {
      const r = await runBinary('run', path, '--json', '--repeat', '1', '--warmup', '0');
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).error.code).toBe('SWAPLESS_INVALID_MODEL');
    },
  );

  it('in-process too: every hostile file is refused before any vetting process, and this process carries on', async () => {
    const spawned = defaultVetter().stats().spawned;
    for (const path of HOSTILE) {
      const r = await cli('run', path, '--repeat', '1', '--warmup', '0', '--delegate', 'cpu');
      expect(r.status).toBe(1);
      expect(r.err).toMatch(/\[SWAPLESS_INVALID_MODEL\]$/m);
    }
    expect(defaultVetter().stats().spawned).toBe(spawned);
    const ok = await cli('run', FACE, '--json', '--repeat', '1', '--warmup', '0', '--delegate', 'cpu');
    expect(ok.status).toBe(0);
  });
});

describe('swapless run refuses what the runtime here cannot run, before any vetting process', () => {
  it('a custom op TFLite 2.9 does not have: exit 1, the sentence, no child', async () => {
    const before = defaultVetter().stats().spawned;
    const r = await cli('run', SELFIE, '--repeat', '1', '--warmup', '0');
    expect(r.status).toBe(1);
    expect(r.err).toMatch(
      /cannot run here: custom op Convolution2DTransposeBias \[SWAPLESS_UNSUPPORTED_MODEL\]$/m,
    );
    expect(defaultVetter().stats().spawned).toBe(before);
  });

  it('a model compiled for the Edge TPU with --delegate cpu: exit 1, no child', async () => {
    const before = defaultVetter().stats().spawned;
    const r = await cli('run', COMPILED, '--repeat', '1', '--warmup', '0', '--delegate', 'cpu');
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/cannot run here: compiled for the Edge TPU .*\[SWAPLESS_UNSUPPORTED_MODEL\]$/m);
    expect(defaultVetter().stats().spawned).toBe(before);
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
