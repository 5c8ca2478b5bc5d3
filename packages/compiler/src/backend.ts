/**
 * The two ways to compile a set of TPU segments — the real `edgetpu_compiler`, or the emulator's compile
 * report — behind one interface, each with the identity that goes into cache keys.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expected, InvalidArgumentError } from '@swapless/core';
import type { TfliteModel } from '@swapless/tflite';
import { compileReport, type DeviceProfile, type ProfileInput, resolveProfile } from '@swapless/tpu-emulator';
import {
  DEFAULT_COMPILER_TIMEOUT_SEC,
  DEFAULT_PROCESS_TIMEOUT_MS,
  edgeTpuCompilerVersion,
  findEdgeTpuCompiler,
  runEdgeTpuCompiler,
} from './edgetpu.js';
import { type ReportSource, reportFromCompilerRun, type SegmentCompileReport } from './report.js';
import { canonicalJson, sha256 } from './store.js';

/** Which compiler to use: the real one when found (`auto`, the default), always the real one, or the emulator. */
export type CompilerChoice = 'auto' | 'edgetpu_compiler' | 'emulator';

/** Options shared by {@link variants} and {@link coCompile} that choose and drive the compiler. */
export interface CompilerOptions {
  /** Default `auto`: `edgetpu_compiler` when one is found, else the emulator. */
  compiler?: CompilerChoice;
  /** Path of `edgetpu_compiler` (else `$SWAPLESS_EDGETPU_COMPILER`, else PATH). */
  compilerPath?: string;
  /** Device profile for emulated reports (and the name real reports carry). Default `usb3`. */
  profile?: ProfileInput;
  /** Our process timeout for one compiler run, ms (process group killed). Default 240 000. */
  timeoutMs?: number;
  /** `-t/--timeout_sec` passed to the compiler; null leaves it out (compilers before 16). Default 180. */
  compilerTimeoutSec?: number | null;
  /** `-m/--min_runtime_version` passed to the compiler (part of the cache key). */
  minRuntimeVersion?: number;
}

/** What identifies a compiler in cache keys: a different identity never reuses another's entries. */
export type CompilerIdentity =
  | {
      readonly kind: 'emulator';
      /** `@swapless/tpu-emulator` version. */
      readonly version: string;
      /** First 16 hex digits of the SHA-256 of the emulator's built entry file (changes on any rebuild). */
      readonly build: string;
      readonly profile: string;
      /** First 16 hex digits of the SHA-256 of the resolved profile's canonical JSON. */
      readonly profileHash: string;
    }
  | {
      readonly kind: 'edgetpu_compiler';
      /** The version the compiler prints, e.g. `16.0.384591198`. */
      readonly version: string;
      readonly minRuntimeVersion?: number;
    };

/** What a backend produced for a set of segment files. */
export interface BackendOutput {
  report: SegmentCompileReport;
  /** Per segment: file name (in the entry directory) of the compiled `*_edgetpu.tflite`, or null. */
  compiled: (string | null)[];
  /** Per segment: file name of the operation log, or null. */
  logs: (string | null)[];
  /** Further files written to the entry directory (compiler console output). */
  extraFiles: string[];
}

/** A resolved compiler. */
export interface Backend {
  readonly source: ReportSource;
  readonly identity: CompilerIdentity;
  readonly profile: DeviceProfile;
  /** Compiles `names` (files in `dir`, one per model, in set order) as one unit, writing outputs to `dir`. */
  compile(dir: string, names: readonly string[], models: readonly TfliteModel[]): Promise<BackendOutput>;
}

/** Finds the nearest package.json above a file and returns its version. */
async function packageVersion(file: string): Promise<string> {
  let dir = dirname(file);
  for (let i = 0; i < 6; i++) {
    try {
      const json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: string };
      if (typeof json.version === 'string') return json.version;
    } catch {
      // Not here: go up.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return 'unknown';
}

let emulatorBuild: Promise<{ version: string; build: string }> | undefined;

/** Version and build fingerprint of the installed `@swapless/tpu-emulator`. */
function emulatorVersion(): Promise<{ version: string; build: string }> {
  emulatorBuild ??= (async () => {
    const entry = fileURLToPath(import.meta.resolve('@swapless/tpu-emulator'));
    return {
      version: await packageVersion(entry),
      build: sha256(await readFile(entry)).slice(0, 16),
    };
  })();
  return emulatorBuild;
}

let tfliteBuild: Promise<string> | undefined;

/** `@swapless/tflite@<version>+<build>`: the splitter that shaped the segment files (part of every key). */
export function splitterIdentity(): Promise<string> {
  tfliteBuild ??= (async () => {
    const entry = fileURLToPath(import.meta.resolve('@swapless/tflite'));
    const build = sha256(await readFile(entry)).slice(0, 16);
    return `@swapless/tflite@${await packageVersion(entry)}+${build}`;
  })();
  return tfliteBuild;
}

function emulatorBackend(profile: DeviceProfile, identity: CompilerIdentity): Backend {
  return {
    source: 'emulated',
    identity,
    profile,
    async compile(_dir, names, models) {
      return {
        report: compileReport(models.length === 1 ? models[0]! : models, profile),
        compiled: names.map(() => null),
        logs: names.map(() => null),
        extraFiles: [],
      };
    },
  };
}

function realBackend(
  compilerPath: string,
  profile: DeviceProfile,
  identity: CompilerIdentity,
  options: CompilerOptions,
): Backend {
  return {
    source: 'edgetpu_compiler',
    identity,
    profile,
    async compile(dir, names, models) {
      const run = await runEdgeTpuCompiler(names, {
        compilerPath,
        cwd: dir,
        outDir: '.',
        timeoutMs: options.timeoutMs ?? DEFAULT_PROCESS_TIMEOUT_MS,
        compilerTimeoutSec:
          options.compilerTimeoutSec === undefined
            ? DEFAULT_COMPILER_TIMEOUT_SEC
            : options.compilerTimeoutSec,
        ...(options.minRuntimeVersion === undefined ? {} : { minRuntimeVersion: options.minRuntimeVersion }),
      });
      const compiled = names.map((n) => `${n.replace(/\.tflite$/, '')}_edgetpu.tflite`);
      const logs = run.models.map((m, i) =>
        m.log === undefined ? null : `${names[i]!.replace(/\.tflite$/, '')}_edgetpu.log`,
      );
      // The unit's token lives inside the compiled files; a fingerprint of their bytes stands for it.
      const outputs = await Promise.all(compiled.map((c) => readFile(join(dir, c))));
      const token = `edgetpu-${sha256(Buffer.concat(outputs)).slice(0, 16)}`;
      const consoleFile = 'edgetpu_compiler.out.txt';
      await writeFile(
        join(dir, consoleFile),
        `$ edgetpu_compiler ${run.args.join(' ')}\n${run.stdout}${run.stderr === '' ? '' : `\n[stderr]\n${run.stderr}`}`,
      );
      return {
        report: reportFromCompilerRun(run, models, profile, token),
        compiled,
        logs,
        extraFiles: [consoleFile],
      };
    },
  };
}

/**
 * Resolves the compiler for a call: the real `edgetpu_compiler` (asked for its version) or the emulator
 * with a profile, and the identity that keys the cache.
 *
 * @throws InvalidArgumentError for an unknown choice, a bad profile, a named compiler that is not executable,
 *   or `compiler: 'edgetpu_compiler'` when none is found.
 */
export async function resolveBackend(options: CompilerOptions = {}): Promise<Backend> {
  const choice = options.compiler ?? 'auto';
  if (choice !== 'auto' && choice !== 'edgetpu_compiler' && choice !== 'emulator') {
    throw new InvalidArgumentError(
      expected("'auto', 'edgetpu_compiler' or 'emulator'", 'options.compiler', choice),
    );
  }
  if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new InvalidArgumentError(
      expected('a positive number of milliseconds', 'options.timeoutMs', options.timeoutMs),
    );
  }
  const profile = resolveProfile(options.profile ?? 'usb3');
  if (choice !== 'emulator') {
    const path = await findEdgeTpuCompiler(
      options.compilerPath === undefined ? {} : { compilerPath: options.compilerPath },
    );
    if (path !== undefined) {
      // --version answers at once; a tiny compile timeout (tests) must not make a slow start look like a hang.
      const versionTimeout = Math.min(Math.max(options.timeoutMs ?? 30_000, 5_000), 30_000);
      const version = await edgeTpuCompilerVersion(path, versionTimeout);
      const identity: CompilerIdentity = {
        kind: 'edgetpu_compiler',
        version,
        ...(options.minRuntimeVersion === undefined ? {} : { minRuntimeVersion: options.minRuntimeVersion }),
      };
      return realBackend(path, profile, identity, options);
    }
    if (choice === 'edgetpu_compiler') {
      throw new InvalidArgumentError(
        expected(
          'an edgetpu_compiler on PATH, in $SWAPLESS_EDGETPU_COMPILER or options.compilerPath',
          "compiler: 'edgetpu_compiler'",
          undefined,
        ),
      );
    }
  }
  const { version, build } = await emulatorVersion();
  return emulatorBackend(profile, {
    kind: 'emulator',
    version,
    build,
    profile: profile.name,
    profileHash: sha256(canonicalJson(profile)).slice(0, 16),
  });
}
