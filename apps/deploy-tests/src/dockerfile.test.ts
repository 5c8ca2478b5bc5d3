// The Dockerfile holds to the repository without building it (no docker engine needed): what the build stage runs
// is what the repository really installs and builds, every COPY source is in the build context, the image runs as
// the unprivileged user the Kubernetes manifests expect, on the port the config names, with environment variables
// the server reads, and the optional Edge TPU layer is selected by its build argument alone.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_OVERRIDES } from '@swapless/server';
import { describe, expect, it } from 'vitest';
import {
  dockerignore,
  envOf,
  ignored,
  imageChain,
  instructions,
  readRepoFile,
  stages,
} from './dockerfile.js';
import { REPO_ROOT, render } from './manifests.js';

const text = readRepoFile('Dockerfile');
const all = stages(text);
const chain = imageChain(all);
const runtimeOps = chain.flatMap((s) => s.instructions);
const last = (op: string) => runtimeOps.filter((i) => i.op === op).at(-1);
const rootPackage = JSON.parse(readRepoFile('package.json')) as {
  packageManager: string;
  engines: { node: string };
};

describe('the helpers', () => {
  it('join continuation lines, drop comments, expand FROM arguments and follow FROM chains', () => {
    const df = [
      'ARG V=1',
      'ARG K=a',
      'FROM x:$' + '{V} AS a',
      '# c',
      'RUN one \\',
      '  # inner',
      '  two',
      'FROM a AS b',
      'USER 5',
    ].join('\n');
    expect(instructions(df).map((i) => i.op)).toEqual(['ARG', 'ARG', 'FROM', 'RUN', 'FROM', 'USER']);
    expect(instructions(df)[3]!.args).toBe('one two');
    expect(stages(df).map((s) => [s.name, s.from])).toEqual([
      ['a', 'x:1'],
      ['b', 'a'],
    ]);
    expect(imageChain(stages(df)).map((s) => s.name)).toEqual(['a', 'b']);
    expect(envOf('A=1 B="two words" C=/x')).toEqual({ A: '1', B: 'two words', C: '/x' });
  });

  it('match .dockerignore patterns as docker does for these forms', () => {
    const p = ['.git', '**/node_modules', 'native/*/build', '**/*.log'];
    expect(ignored('.git/HEAD', p)).toBe(true);
    expect(ignored('node_modules/x', p)).toBe(true);
    expect(ignored('apps/server/node_modules/y', p)).toBe(true);
    expect(ignored('native/tflite-addon/build/Release/a.node', p)).toBe(true);
    expect(ignored('packages/compiler/test/a.log', p)).toBe(true);
    expect(ignored('package-lock.json', p)).toBe(false);
    expect(ignored('native/tflite-addon/src/addon.cc', p)).toBe(false);
  });
});

describe('the build stage', () => {
  const build = all.find((s) => s.name === 'build')!;
  const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);

  it('installs from the lockfile with the npm the lockfile was written with, on a Node the repository accepts', () => {
    expect(runs.join('\n')).toMatch(/\bnpm ci\b/);
    expect(runs.join('\n')).not.toMatch(/\bnpm install(?! -g npm@)/);
    const npm = rootPackage.packageManager.replace(/^npm@/, '');
    expect(runs.join('\n')).toContain(`npm install -g npm@${npm}`);
    const node = /ARG NODE_VERSION=(\d+)\.(\d+)\.(\d+)/.exec(text)!;
    const [, min, minMinor] = /^>=(\d+)\.(\d+)/.exec(rootPackage.engines.node)!;
    expect(Number(node[1]) > Number(min) || Number(node[2]) >= Number(minMinor)).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'package-lock.json'))).toBe(true);
  });

  it('checks for the native addon and the server build where the repository produces them', () => {
    const gyp = JSON.parse(readRepoFile('native/tflite-addon/binding.gyp')) as {
      targets: { target_name: string }[];
    };
    const addon = `native/tflite-addon/build/Release/${gyp.targets[0]!.target_name}.node`;
    const server = JSON.parse(readRepoFile('apps/server/package.json')) as {
      exports: { '.': { import: string } };
    };
    const serverBuild = join('apps/server', server.exports['.'].import);
    const tested = [...runs.join('\n').matchAll(/test -f (\S+)/g)].map((m) => m[1]);
    expect(tested).toEqual([addon, serverBuild]);
    // This checkout was installed the same way (npm ci): both exist.
    for (const f of tested) expect(existsSync(join(REPO_ROOT, f!)), f).toBe(true);
    // Dropping dev dependencies must not run install scripts again (the addon would be rebuilt without node-gyp).
    expect(runs.join('\n')).toMatch(/npm prune --omit=dev --ignore-scripts/);
  });

  it('copies sources that are in the build context and not left out by .dockerignore', () => {
    const patterns = dockerignore();
    const copies = all
      .flatMap((s) => s.instructions)
      .filter((i) => i.op === 'COPY' && !/--from=/.test(i.args));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      const parts = c.args.split(/\s+/).filter((a) => !a.startsWith('--'));
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(join(REPO_ROOT, src)), src).toBe(true);
        if (src !== '.') expect(ignored(src, patterns), src).toBe(false);
      }
    }
    // What npm ci needs is in the context; what it makes is not.
    for (const needed of [
      'package.json',
      'package-lock.json',
      'native/tflite-addon/src/addon.cc',
      'tools/tsup.base.mjs',
      'apps/server/bin/swapless-server.js',
      'packages/core/src/index.ts',
    ]) {
      expect(ignored(needed, patterns), needed).toBe(false);
    }
    for (const made of [
      'node_modules/x',
      'packages/core/dist/index.js',
      'native/tflite-addon/build/x',
      '.git/x',
    ]) {
      expect(ignored(made, patterns), made).toBe(true);
    }
  });
});

describe('the image', () => {
  it('runs the server bin as an unprivileged user, the one the manifests run as', () => {
    const user = last('USER')!.args;
    const [uid, gid] = user.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    const workdir = last('WORKDIR')!.args;
    const entrypoint = JSON.parse(last('ENTRYPOINT')!.args) as string[];
    expect(entrypoint[0]).toBe('node');
    const server = JSON.parse(readRepoFile('apps/server/package.json')) as { bin: Record<string, string> };
    expect(entrypoint[1]).toBe(join(workdir, 'apps/server', server.bin['swapless-server']!));
    for (const v of ['plain', 'kserve']) {
      const objects = render(v);
      const d = objects.find((o) => o.kind === 'Deployment');
      const sr = objects.find((o) => o.kind === 'ServingRuntime');
      const isvc = objects.find((o) => o.kind === 'InferenceService');
      const container = (d ? d.spec.template.spec : sr!.spec).containers[0];
      const pod = d?.spec.template.spec ?? isvc?.spec.predictor;
      expect(container.securityContext.runAsUser, v).toBe(uid);
      expect(container.securityContext.runAsGroup, v).toBe(gid);
      expect(pod.securityContext.fsGroup, v).toBe(gid);
      expect(container.image, v).toMatch(/^swapless-server:/);
    }
  });

  it('sets only environment variables the server reads, and listens where the config and EXPOSE say', () => {
    const env = Object.assign({}, ...runtimeOps.filter((i) => i.op === 'ENV').map((i) => envOf(i.args)));
    const known = new Set([...Object.keys(ENV_OVERRIDES), 'SWAPLESS_CACHE_DIR', 'NODE_ENV']);
    for (const name of Object.keys(env)) expect(known, name).toContain(name);
    expect(env.SWAPLESS_HOST).toBe('0.0.0.0');
    expect(last('EXPOSE')!.args).toBe(env.SWAPLESS_PORT);
    const config = render('base')[0]!.data!['server.yaml']!;
    expect(config).toMatch(new RegExp(`^port: ${env.SWAPLESS_PORT}$`, 'm'));
    // The KServe storage initializer's mount is the default repository.
    expect(env.SWAPLESS_REPOSITORY).toBe('/mnt/models');
  });

  it('adds the Edge TPU runtime only with --build-arg EDGETPU=std or max', () => {
    const layer = (arg: string) =>
      imageChain(stages(text, { EDGETPU: arg }))
        .flatMap((s) => s.instructions)
        .filter((i) => i.op === 'RUN')
        .map((i) => i.args)
        .join('\n');
    expect(layer('none')).not.toMatch(/libedgetpu/);
    expect(layer('std')).toMatch(/coral-edgetpu-stable/);
    expect(layer('std')).toMatch(/libedgetpu1-\$\{EDGETPU\}/);
    expect(imageChain(stages(text, { EDGETPU: 'max' })).map((s) => s.name)).toContain('runtime-edgetpu');
    expect(stages(text, { EDGETPU: 'none' }).at(-1)!.from).toBe('runtime-none');
  });
});
