// The KServe pod without Kubernetes: the ServingRuntime's container run as KServe would run it for the example
// InferenceService — the image's environment (Dockerfile ENV), the container's arguments with {{.Name}} replaced,
// its environment, the ConfigMap's server.yaml and the admin token where their volumes are mounted, and a model
// where KServe's storage initializer puts it (/mnt/models/model.tflite) — with every mount path moved into a
// temporary directory and the server on loopback. The probes, the scrape path and the v2 routes then answer for the
// InferenceService's name, management changes need the Secret's token, and SIGTERM drains and exits 0.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { buildTestNet } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envOf, imageChain, readRepoFile, stages } from './dockerfile.js';
import { type K8sObject, REPO_ROOT, render } from './manifests.js';

// biome-ignore lint/suspicious/noExplicitAny: parts of rendered objects
type Any = any;

const objects: K8sObject[] = render('kserve');
const runtime = objects.find((o) => o.kind === 'ServingRuntime')!;
const isvc = objects.find((o) => o.kind === 'InferenceService')!;
const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
const container: Any = runtime.spec.containers[0];
const name = isvc.metadata.name;

let root = '';
let child: ChildProcessByStdio<null, Readable, Readable>;
let exited: Promise<number | null>;
let stderr = '';
let base = '';
const token = randomBytes(24).toString('hex');

/** A path inside the pod, moved into the temporary directory (every mount, and KServe's /mnt/models). */
function moved(path: string): string {
  return path.startsWith('/') ? join(root, path) : path;
}
/** Every absolute path in a text (the mounts: /etc/swapless, /var/lib/swapless, /mnt, …) moved. */
function movedIn(text: string): string {
  const mounts = [...(container.volumeMounts as Any[]).map((m) => m.mountPath as string), '/mnt'];
  // One pass, longest mount first: a moved path (under the system's /tmp) is never moved again.
  const alternatives = mounts.sort((a, b) => b.length - a.length).join('|');
  return text.replace(
    new RegExp(`(^|[\\s=:])(${alternatives})(?=/|$|\\s)`, 'gm'),
    (_m, pre: string, mount: string) => {
      return `${pre}${join(root, mount)}`;
    },
  );
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'swapless-pod-'));
  // The volumes: the ConfigMap's file, the Secret's key, KServe's model folder; emptyDirs for the rest.
  const configMount = (container.volumeMounts as Any[]).find((m) => m.name === 'config').mountPath as string;
  await mkdir(moved(configMount), { recursive: true });
  await writeFile(join(moved(configMount), 'server.yaml'), movedIn(configMap.data!['server.yaml']!));
  const env: Record<string, string> = Object.fromEntries(
    (container.env as Any[]).map((e) => [e.name, e.value as string]),
  );
  await mkdir(dirname(moved(env.SWAPLESS_ADMIN_TOKEN_FILE!)), { recursive: true });
  await writeFile(moved(env.SWAPLESS_ADMIN_TOKEN_FILE!), `${token}\n`);
  await mkdir(moved('/mnt/models'), { recursive: true });
  await writeFile(join(moved('/mnt/models'), 'model.tflite'), writeModel(buildTestNet(3)));
  for (const m of container.volumeMounts as Any[]) await mkdir(moved(m.mountPath), { recursive: true });

  // The image's environment, then the container's, paths moved; loopback and a free port instead of 0.0.0.0:8080.
  const imageEnv: Record<string, string> = Object.assign(
    {},
    ...imageChain(stages(readRepoFile('Dockerfile')))
      .flatMap((s) => s.instructions)
      .filter((i) => i.op === 'ENV')
      .map((i) => envOf(i.args)),
  );
  const podEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...imageEnv, ...env })) podEnv[k] = movedIn(v);
  podEnv.SWAPLESS_HOST = '127.0.0.1';
  podEnv.SWAPLESS_PORT = '0';
  // This machine may have fewer cores than the pod's CPU limit.
  podEnv.SWAPLESS_CORES = '1';
  const args = (container.args as string[]).map((a) => movedIn(a.replaceAll('{{.Name}}', name)));
  child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'apps', 'server', 'bin', 'swapless-server.js'), ...args, '--json'],
    {
      cwd: root,
      env: { PATH: process.env.PATH, TMPDIR: moved('/tmp'), ...podEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stderr.on('data', (d) => (stderr += d));
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const summary = await new Promise<{ urls: { base: string } }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)));
    });
    void exited.then((code) => reject(new Error(`the server exited ${code}: ${stderr}`)));
  });
  base = summary.urls.base;
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

describe(`the ServingRuntime's container for InferenceService "${name}"`, () => {
  it('answers its probes and its scrape path', async () => {
    for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe]) {
      expect((await fetch(`${base}${probe.httpGet.path}`)).status, probe.httpGet.path).toBe(200);
    }
    const metrics = await fetch(`${base}${runtime.spec.annotations['prometheus.io/path']}`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(new RegExp(`swapless_tenant_in_flight\\{tenant="${name}"\\} 0`));
  });

  it('serves the model KServe put in /mnt/models under the InferenceService name, on the v2 protocol', async () => {
    expect((await fetch(`${base}/v2/models/${name}/ready`)).status).toBe(200);
    const metadata = (await (await fetch(`${base}/v2/models/${name}`)).json()) as { inputs: Any[] };
    expect(metadata.inputs[0].shape).toEqual([1, 16, 16, 3]);
    const data = Array.from({ length: 16 * 16 * 3 }, (_, i) => (i % 255) - 127);
    const res = await fetch(`${base}/v2/models/${name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: metadata.inputs[0].name, datatype: 'INT8', shape: [1, 16, 16, 3], data }],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model_name: string; outputs: { data: number[] }[] };
    expect(body.model_name).toBe(name);
    expect(body.outputs[0]!.data).toHaveLength(10);
  });

  it('takes management changes only with the token from the Secret', async () => {
    const register = (headers: Record<string, string>) =>
      fetch(`${base}/api/v1/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'second', model: 'models' }),
      });
    expect((await register({})).status).toBe(401);
    expect((await register({ authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await register({ authorization: `Bearer ${token}` })).status).toBe(201);
    // Saved in the state directory's volume, and the profiles in the cache's: both writable mounts in use.
    expect(existsSync(join(moved('/var/lib/swapless'), 'tenants.json'))).toBe(true);
    expect(readdirSync(moved('/var/cache/swapless')).length).toBeGreaterThan(0);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/"msg":"shut down"/);
  });
});
