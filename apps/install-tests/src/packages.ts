/**
 * The public packages of the repository as a user gets them: found from the root's workspaces (every package that
 * is not private), packed with `npm pack`, and installed alone into an empty project the way their README says.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is apps/install-tests/src/packages.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The parts of a package.json these tests read. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports?: Record<string, unknown>;
  files?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A public workspace package. */
export interface PublicPackage {
  name: string;
  /** Directory relative to the repository root. */
  dir: string;
  manifest: Manifest;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Every workspace package that is not private, from the root's `workspaces` globs (`dir/*` form), by name. */
export function publicPackages(): PublicPackage[] {
  const { workspaces } = readJson<{ workspaces: string[] }>(join(REPO_ROOT, 'package.json'));
  const out: PublicPackage[] = [];
  for (const glob of workspaces) {
    const parent = glob.replace(/\/\*$/, '');
    for (const entry of readdirSync(join(REPO_ROOT, parent), { withFileTypes: true })) {
      const dir = `${parent}/${entry.name}`;
      const file = join(REPO_ROOT, dir, 'package.json');
      if (!entry.isDirectory() || !existsSync(file)) continue;
      const manifest = readJson<Manifest>(file);
      if (!manifest.private) out.push({ name: manifest.name, dir, manifest });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Outcome of a child process. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  ms: number;
}

/**
 * The environment for a child npm or node: this one without the `npm_*` variables that the `npm test` running
 * these tests set (its prefix and workspace settings must not leak into an unrelated project).
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command to its end (killed after `timeoutMs`), with stdout and stderr interleaved in `output`. */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 300_000,
): Promise<RunResult> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, ms: performance.now() - start });
    });
  });
}

/** One packed tarball, as `npm pack --json` reports it. */
export interface Tarball {
  name: string;
  version: string;
  /** Absolute path of the .tgz. */
  path: string;
  /** Paths inside the package. */
  files: string[];
}

/** Packs the packages with one `npm pack` (their `prepack` steps run) into `dest`; tarballs by package name. */
export async function packAll(
  packages: readonly PublicPackage[],
  dest: string,
): Promise<Map<string, Tarball>> {
  mkdirSync(dest, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', dest, ...packages.flatMap((p) => ['-w', p.dir])];
  const r = await run('npm', args, REPO_ROOT);
  if (r.code !== 0) throw new Error(`npm pack failed (exit ${r.code}):\n${r.output}`);
  // stdout holds the prepack scripts' banners before the JSON array.
  const json = r.output.slice(r.output.indexOf('\n[') + 1, r.output.lastIndexOf(']') + 1);
  const entries = JSON.parse(json) as {
    name: string;
    version: string;
    filename: string;
    files: { path: string }[];
  }[];
  return new Map(
    entries.map((e) => [
      e.name,
      { name: e.name, version: e.version, path: join(dest, e.filename), files: e.files.map((f) => f.path) },
    ]),
  );
}

/**
 * The packages a README's install command names (the first `npm install …` line of a ```sh block), flags and
 * comments dropped.
 */
export function installLine(readme: string): string[] {
  for (const block of readme.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```/gm)) {
    for (const line of block[1]!.split('\n')) {
      const m = /^\s*npm (?:install|i) (.+)$/.exec(line.replace(/#.*$/, ''));
      if (m) return m[1]!.split(/\s+/).filter((t) => t !== '' && !t.startsWith('-'));
    }
  }
  return [];
}

/** The version the repository pins for a third-party dependency (the first public package that depends on it). */
export function pinnedVersion(packages: readonly PublicPackage[], dependency: string): string | undefined {
  for (const p of packages) {
    const v = p.manifest.dependencies?.[dependency];
    if (v !== undefined) return v;
  }
  return undefined;
}

/**
 * Creates an empty project in `dir` and installs `names` into it: `@swapless/*` ones from their tarballs (and every
 * `@swapless/*` dependency from its tarball too, through `overrides`), others from the npm registry at the version
 * the repository pins, through the shared npm cache (`--prefer-offline`). `tfjs-tflite-node`'s own install script
 * is switched off (`allowScripts`, as the addon's README advises): SwapLess never loads its binding.
 * `ignoreScripts` runs no install script at all (the caller then provides the compiled addon).
 */
export async function installAlone(
  dir: string,
  names: readonly string[],
  tarballs: ReadonlyMap<string, Tarball>,
  packages: readonly PublicPackage[],
  options: { ignoreScripts?: boolean } = {},
): Promise<RunResult> {
  mkdirSync(dir, { recursive: true });
  const dependencies: Record<string, string> = {};
  for (const n of names) {
    const t = tarballs.get(n);
    dependencies[n] = t ? `file:${t.path}` : (pinnedVersion(packages, n) ?? 'latest');
  }
  // A direct dependency is overridden by a reference to itself (npm refuses an override that differs from it).
  const overrides = Object.fromEntries(
    [...tarballs.values()].map((t) => [t.name, t.name in dependencies ? `$${t.name}` : `file:${t.path}`]),
  );
  const project = {
    name: 'standalone',
    version: '1.0.0',
    private: true,
    type: 'module',
    dependencies,
    overrides,
    allowScripts: { 'tfjs-tflite-node': false },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(project, null, 2)}\n`);
  const flags = [
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    ...(options.ignoreScripts ? ['--ignore-scripts'] : []),
  ];
  return run('npm', ['install', ...flags], dir);
}

/** True when installing `names` brings in `target`: one of them is it or depends on it, directly or not. */
export function dependsOn(
  packages: readonly PublicPackage[],
  names: readonly string[],
  target: string,
): boolean {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const seen = new Set<string>();
  const visit = (name: string): boolean => {
    if (name === target) return true;
    if (seen.has(name)) return false;
    seen.add(name);
    return Object.keys(byName.get(name)?.manifest.dependencies ?? {}).some(visit);
  };
  return names.some(visit);
}
