/**
 * Finding the latency-model plugins installed where a host runs: every package in the `node_modules`
 * directories Node would search from a directory that has a `swapless-plugin.json` at its root. Only JSON is
 * read; no plugin code runs.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { PLUGIN_MANIFEST_FILE } from '@swapless/contracts';

/** An installed plugin package as {@link discoverPlugins} finds it. */
export interface InstalledPlugin {
  /** The package name (what `--latency-model` and `latencyModel` accept). */
  readonly package: string;
  /** The manifest's version (null when the manifest does not parse). */
  readonly version: string | null;
  /** The package directory, symlinks resolved. */
  readonly dir: string;
}

function packagesIn(nodeModules: string): string[] {
  let names: string[];
  try {
    names = readdirSync(nodeModules);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    if (!name.startsWith('@')) {
      out.push(name);
      continue;
    }
    try {
      for (const inner of readdirSync(join(nodeModules, name)).sort()) out.push(`${name}/${inner}`);
    } catch {
      // Not a directory: nothing scoped here.
    }
  }
  return out;
}

/**
 * The plugin packages installed for `baseDir` (default the working directory), nearest `node_modules` first;
 * a package name found in two directories is listed once, where Node would find it.
 */
export function discoverPlugins(baseDir: string = process.cwd()): InstalledPlugin[] {
  const base = resolve(baseDir);
  const dirs = createRequire(join(base, '__swapless_plugin_resolve__.js')).resolve.paths('x') ?? [];
  const seen = new Set<string>();
  const out: InstalledPlugin[] = [];
  for (const nodeModules of dirs) {
    for (const name of packagesIn(nodeModules)) {
      if (seen.has(name)) continue;
      const dir = join(nodeModules, name);
      const manifest = join(dir, PLUGIN_MANIFEST_FILE);
      if (!existsSync(manifest)) continue;
      seen.add(name);
      let version: string | null = null;
      try {
        const v = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
        if (typeof v === 'string') version = v;
      } catch {
        // Listed anyway: loading it reports what is wrong with its manifest.
      }
      out.push({ package: name, version, dir: realpathSync(dir) });
    }
  }
  return out;
}
