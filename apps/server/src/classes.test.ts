// Model classes over real HTTP: a float model from the repository is a CPU-only tenant that answers what the
// model alone answers; a custom op and a compiled model (the Edge TPU is emulated here) are refused
// (SWAPLESS_UNSUPPORTED_MODEL: HTTP 400) naming the tenant, at startup and at registration, while the others keep
// serving.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from './server.js';
import { reference, testBanner, testServerConfig, useTestCache } from './test-support.js';

const require = createRequire(import.meta.url);
const read = (path: string) => readFileSync(path);
const FACE = read(require.resolve('@mediapipe/face_detection/face_detection_short_range.tflite'));
const SELFIE = read(require.resolve('@mediapipe/selfie_segmentation/selfie_segmentation.tflite'));
const COMPILED = read(
  fileURLToPath(
    new URL('../../../fixtures/models/coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite', import.meta.url),
  ),
);
let restoreCache = (): void => {};

let server: RunningServer;
let base: string;

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), 'swapless-server-classes-'));
  restoreCache = useTestCache(work);
  const repo = join(work, 'models');
  for (const [name, bytes] of [
    ['face', FACE],
    ['seg', SELFIE],
    ['compiled', COMPILED],
  ] as const) {
    await mkdir(join(repo, name), { recursive: true });
    await writeFile(join(repo, name, 'model.tflite'), bytes);
  }
  server = await startServer(
    {
      ...testServerConfig(work, repo),
      // Two tenants with a CPU stage each (face, face2 below) need two cores.
      cores: 2,
      logLevel: 'silent',
      tenants: [
        { name: 'face', model: 'face', rate: 20 },
        { name: 'seg', model: 'seg', rate: 5 },
        { name: 'cls', model: 'compiled', rate: 5 },
      ],
    },
    { progress: false },
  );
  base = server.urls.base;
});

afterAll(async () => {
  await server?.close();
  restoreCache();
});

function faceInput(seed: number): Float32Array {
  const x = new Float32Array(128 * 128 * 3);
  const r = new SeededRandom(seed);
  for (let i = 0; i < x.length; i++) x[i] = r.uniform(-1, 1);
  return x;
}

/** The float model run alone on one interpreter. */
const alone = (x: Float32Array) => reference(new Uint8Array(FACE), x);

const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('startup with every class of model', () => {
  it('starts the float model as a CPU-only tenant and leaves out the others, saying why', () => {
    expect(server.service.tenantNames()).toEqual(['face']);
    expect(server.failed).toEqual([
      {
        name: 'seg',
        code: 'SWAPLESS_UNSUPPORTED_MODEL',
        message: 'tenant "seg": cannot run here: custom op Convolution2DTransposeBias',
        from: 'config',
      },
      {
        name: 'cls',
        code: 'SWAPLESS_UNSUPPORTED_MODEL',
        message: expect.stringMatching(
          /^tenant "cls": compiled for the Edge TPU .*give the uncompiled quantized model instead/,
        ),
        from: 'config',
      },
    ]);
    const face = server.service.tenant('face')!;
    expect(face).toMatchObject({
      k: 0,
      modelClass: { kind: 'cpu-only', reason: 'float model: nothing maps to the Edge TPU' },
    });
    expect(face.cores).toBeGreaterThanOrEqual(1);
    const banner = testBanner(server);
    expect(banner).toMatch(
      / {4}face {2}repository:face, .* — CPU-only: float model: nothing maps to the Edge TPU\n/,
    );
  });
});

describe('a float model from the repository', () => {
  it('serves inference whose outputs equal the model run alone (FP32 over KServe v2)', async () => {
    const meta = (await (await fetch(`${base}/v2/models/face`)).json()) as {
      inputs: { name: string; datatype: string; shape: number[] }[];
    };
    expect(meta.inputs).toEqual([{ name: 'input', datatype: 'FP32', shape: [1, 128, 128, 3] }]);
    for (const seed of [1, 2]) {
      const x = faceInput(seed);
      const res = await post('/v2/models/face/infer', {
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 128, 128, 3], data: Array.from(x) }],
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        parameters: Record<string, unknown>;
        outputs: { data: number[] }[];
      };
      expect(body.outputs.map((o) => o.data)).toEqual(alone(x));
      expect(body.parameters).toMatchObject({ k: 0, timing: 'measured' });
    }
  });

  it('registers again under another name through the management API', async () => {
    const created = await post('/api/v1/tenants', { name: 'face2', model: 'face', rate: 5 });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'face2', k: 0, modelClass: { kind: 'cpu-only' } });
    expect((await fetch(`${base}/api/v1/tenants/face2`, { method: 'DELETE' })).status).toBeLessThan(300);
  });
});

describe('registrations the server refuses', () => {
  it('a custom op and a compiled model: 400 naming the tenant (SWAPLESS_UNSUPPORTED_MODEL); serving goes on', async () => {
    const seg = await post('/api/v1/tenants', { name: 'seg', model: 'seg' });
    expect(seg.status).toBe(400);
    expect(await seg.json()).toEqual({
      error: 'tenant "seg": cannot run here: custom op Convolution2DTransposeBias',
      code: 'SWAPLESS_UNSUPPORTED_MODEL',
    });
    const compiled = await post('/api/v1/tenants', { name: 'cls', model: 'compiled' });
    expect(compiled.status).toBe(400);
    expect(await compiled.json()).toEqual({
      error: expect.stringMatching(
        /^tenant "cls": compiled for the Edge TPU .*passed to edgetpu_compiler\)$/,
      ),
      code: 'SWAPLESS_UNSUPPORTED_MODEL',
    });
    // The management API's body is `{ error, code }`; the status comes from the typed error's stable code.
    const model = await server.repository.resolveModel('seg');
    await expect(
      server.service.addTenant({ name: 'seg', model: model.bytes, source: model.source }),
    ).rejects.toMatchObject({ code: 'SWAPLESS_UNSUPPORTED_MODEL' });
    expect(server.service.tenantNames()).toEqual(['face']);
    const res = await post('/v2/models/face/infer', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 128, 128, 3], data: Array.from(faceInput(9)) }],
    });
    expect(res.status).toBe(200);
  });
});
