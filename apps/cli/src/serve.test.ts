// `swapless serve` is the server's program (apps/server's serve()); these check the CLI wiring: help, usage errors
// (exit 2), and one real start and graceful stop of the built CLI in a child process.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { cli } from './test-util.js';

describe('swapless serve', () => {
  it('explains itself', async () => {
    const r = await cli('serve', '--help');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^Usage: swapless serve/);
    for (const flag of [
      '--config',
      '--port',
      '--host',
      '--device',
      '--cores',
      '--policy',
      '--repository',
      '--log-level',
    ]) {
      expect(r.out).toContain(flag);
    }
    expect((await cli('--help')).out).toMatch(/\n {2}serve +run the server/);
  });

  it('exits 2 on bad arguments without starting anything', async () => {
    for (const argv of [
      ['--port', '99999'],
      ['--policy', 'fastest'],
      ['--bogus'],
      ['extra'],
      ['--log-level', 'x'],
    ]) {
      const r = await cli('serve', ...argv);
      expect(r.status, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(/^swapless serve: .*\[SWAPLESS_USAGE\]/);
    }
  });

  it('exits 1 with a clear message for a bad config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-cli-serve-'));
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'tenants: [ {name: a\n');
    const r = await cli('serve', '--config', path);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(/Expected YAML in .*bad\.yaml but it does not parse.*\[SWAPLESS_INVALID_CONFIG\]/);
  });

  it('starts the server and stops gracefully on SIGTERM (built CLI, child process)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-cli-serve-'));
    await mkdir(join(dir, 'models', 'tiny'), { recursive: true });
    await writeFile(
      join(dir, 'models', 'tiny', 'model.tflite'),
      writeModel(tinyModel({ type: 'int8', shape: [1, 4] })),
    );
    const config = join(dir, 'server.json');
    await writeFile(
      config,
      JSON.stringify({
        tenants: [{ name: 't', model: 'tiny' }],
        profiling: { repetitions: 2 },
        logLevel: 'warn',
      }),
    );
    const bin = join(import.meta.dirname, '..', 'bin', 'swapless.js');
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--config', config, '--port', '0', '--repository', join(dir, 'models'), '--json'],
      { env: { ...process.env, SWAPLESS_CACHE_DIR: join(dir, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const summary = await new Promise<{ urls: { api: string } }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
      });
      void exited.then((code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const meta = (await (await fetch(`${summary.urls.api}/models/t`)).json()) as {
      inputs: { shape: number[] }[];
    };
    expect(meta.inputs[0]!.shape).toEqual([1, 4]);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
