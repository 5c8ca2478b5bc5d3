// Test-only helpers shared by the server's test files (not part of the built server: tsup bundles from index.ts).

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { TensorArray } from '@swapless/contracts';
import { createInterpreter } from '@swapless/edgetpu';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { formatBanner } from './banner.js';
import type { ServerConfigInput } from './config.js';
import { describeTenants, type RunningServer } from './server.js';

/**
 * The settings every end-to-end test server starts from: loopback on a free port, the given model repository,
 * state under `work`, fast profiling and a quick controller tick.
 */
export function testServerConfig(work: string, repository: string): ServerConfigInput {
  return {
    host: '127.0.0.1',
    port: 0,
    repository,
    stateDir: join(work, 'state'),
    profiling: { repetitions: 2, maxCuts: 3 },
    tickMs: 250,
  };
}

/** The unsplit model's outputs for `input` on a plain interpreter (what every served answer must equal). */
export function reference(model: Uint8Array, input: TensorArray): number[][] {
  const it = createInterpreter(model, { threads: 1 });
  try {
    it.setInput(0, input);
    it.invoke();
    return it.outputs.map((_, i) => Array.from(it.getOutput(i) as ArrayLike<number>));
  } finally {
    it.dispose();
  }
}

/** A pino logger that keeps every line (parsed) in `into`. */
export function memoryLogger(into: Record<string, unknown>[]): Logger {
  return pino({ level: 'debug' }, { write: (line: string) => void into.push(JSON.parse(line)) });
}

/** The server program running as a child process, once it printed its `--json` startup line. */
export interface ServerProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** The startup line. */
  summary: {
    urls: { base: string };
    tenants: { name: string }[];
    failed: { name: string; code: string; from: string }[];
  };
  /** Resolves to the exit code (null after a signal). */
  exited: Promise<number | null>;
  /** Everything written to stderr so far (the JSON log lines). */
  stderr(): string;
}

/** Starts the real program (`node bin/swapless-server.js --config <file> --json …`); resolves once it is ready. */
export async function startServerProcess(configPath: string, extra: string[] = []): Promise<ServerProcess> {
  const bin = join(import.meta.dirname, '..', 'bin', 'swapless-server.js');
  const child = spawn(process.execPath, [bin, '--config', configPath, '--json', ...extra], {
    env: { ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const summary = await new Promise<ServerProcess['summary']>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve(JSON.parse(out.slice(0, nl)));
    });
    void exited.then((code) => reject(new Error(`exited ${code} before ready: ${stderr}`)));
  });
  return { child, summary, exited, stderr: () => stderr };
}

/** The startup banner of a test server (emulated usb3, no curl lines). */
export function testBanner(server: RunningServer): string {
  return formatBanner({
    urls: server.urls,
    device: 'usb3',
    backend: 'emulated',
    policy: server.config.policy,
    cores: server.service.cores,
    configSource: 'test',
    repository: server.config.repository,
    tenants: describeTenants(server),
    failed: server.failed,
    warnings: [],
    skipped: [],
    curl: {},
    startupMs: 0,
  });
}

/**
 * A temporary folder for a test file's servers, made before its tests: `SWAPLESS_CACHE_DIR` points inside it
 * (restored afterwards) and `models/` is a repository holding `models` (name → .tflite bytes).
 */
export function useServerWork(
  prefix: string,
  models: Readonly<Record<string, Uint8Array>>,
): { work(): string; repo(): string } {
  let work = '';
  let restore = (): void => {};
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), `swapless-${prefix}-`));
    restore = useTestCache(work);
    await writeTestRepository(work, models);
  });
  afterAll(() => restore());
  return { work: () => work, repo: () => join(work, 'models') };
}

/** A model repository at `<work>/models` with one folder per entry (`model.tflite` from the bytes); its path. */
export async function writeTestRepository(
  work: string,
  models: Readonly<Record<string, Uint8Array>>,
): Promise<string> {
  const repo = join(work, 'models');
  for (const [name, bytes] of Object.entries(models)) {
    await mkdir(join(repo, name), { recursive: true });
    await writeFile(join(repo, name, 'model.tflite'), bytes);
  }
  return repo;
}

/** Points `SWAPLESS_CACHE_DIR` at `<work>/cache`; returns what puts the previous value back. */
export function useTestCache(work: string): () => void {
  const saved = process.env.SWAPLESS_CACHE_DIR;
  process.env.SWAPLESS_CACHE_DIR = join(work, 'cache');
  return () => {
    if (saved === undefined) delete process.env.SWAPLESS_CACHE_DIR;
    else process.env.SWAPLESS_CACHE_DIR = saved;
  };
}
