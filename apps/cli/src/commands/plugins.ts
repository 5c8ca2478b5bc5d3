import { expected, UsageError } from '@swapless/core';
import {
  checkLatencyModel,
  createLatencyModelRegistry,
  discoverPlugins,
  latencyModelChoiceOf,
  loadPlugin,
} from '@swapless/queueing';
import { parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { table } from '../output.js';

const help = `Usage: swapless plugins list [--json]
       swapless plugins check PATH [--latency-model-options JSON] [--json]

list   The latency models this directory can use with --latency-model (plan, bench, serve) and the server's
       "latencyModel" key: the built-in ones, then every installed npm package with a swapless-plugin.json
       (searched like Node resolves packages from the working directory). Each plugin is loaded to read its
       model id, so it also runs the quick conformance checks every host runs when a plugin loads; a plugin
       that fails them is listed with the reason. Columns: id, package, version, source.

check  Runs the whole conformance kit of @swapless/queueing on the plugin package at PATH (a directory with a
       swapless-plugin.json, or a package name installed here): manifest, options, then every check — shape,
       components, determinism, monotonicity, instability, errors, fit. Exit status 1 with every failure
       listed when anything fails, 0 when it passes.

Options:
  --latency-model-options JSON
                   (check) options to create the model with, a JSON object (default {})
  --json           print the result as JSON (docs/cli.md)
  -h, --help       show this help`;

/** One row of `plugins list`. */
interface Listed {
  id: string | null;
  package: string | null;
  version: string | null;
  /** `built-in`, or the package directory. */
  source: string;
  /** Why it cannot be used, or null. */
  error: string | null;
}

async function list(): Promise<Listed[]> {
  const registry = createLatencyModelRegistry({ baseDir: process.cwd() });
  const rows: Listed[] = [];
  for (const e of registry.list()) {
    const r = await registry.load(e.name);
    rows.push({ id: r.id, package: r.package, version: r.version, source: 'built-in', error: null });
  }
  for (const p of discoverPlugins(process.cwd())) {
    try {
      const r = await registry.load(p.dir);
      rows.push({ id: r.id, package: r.package, version: r.version, source: p.dir, error: null });
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      rows.push({ id: null, package: p.package, version: p.version, source: p.dir, error: message });
    }
  }
  return rows;
}

/** `swapless plugins list|check`: the latency models available here, and the conformance kit on a plugin. */
export const pluginsCommand: Command = {
  name: 'plugins',
  summary: 'latency-model plugins: list what is available here, check a plugin with the conformance kit',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('plugins', argv, {
      'latency-model-options': { type: 'string' },
    });
    const [action, ...rest] = pos;
    if (action === 'list') {
      positionals('plugins list', rest, []);
      const rows = await list();
      if (values.json) {
        io.out(JSON.stringify({ models: rows }, null, 2));
        return 0;
      }
      io.out(
        table(
          ['id', 'package', 'version', 'source'],
          rows.map((r) => [r.id ?? '—', r.package ?? '—', r.version ?? '—', r.source]),
        ),
      );
      for (const r of rows)
        if (r.error !== null) io.out(`\n${r.package}: cannot be used: ${r.error.replace(/\n\s*/g, ' ')}`);
      return 0;
    }
    if (action !== 'check')
      throw new UsageError(
        `${expected("'list' or 'check PATH'", 'swapless plugins', action ?? 'nothing')} (see \`swapless plugins --help\`)`,
      );
    const [path] = positionals('plugins check', rest, ['path']);
    const choice = latencyModelChoiceOf(path, values['latency-model-options']);
    const options = typeof choice === 'object' ? { ...choice.options } : {};
    const loaded = await loadPlugin(path!, options, { baseDir: process.cwd() });
    const report = checkLatencyModel(loaded.model);
    const failures = report.checks.flatMap((c) => c.failures.map((f) => `[${c.name}] ${f}`));
    const plugin = {
      id: loaded.model.name,
      package: loaded.manifest.name,
      version: loaded.manifest.version,
      dir: loaded.dir,
    };
    if (values.json) {
      io.out(JSON.stringify({ plugin, passed: report.passed, checks: report.checks }, null, 2));
    } else {
      io.out(
        [
          `${plugin.id} (${plugin.package}@${plugin.version}) from ${plugin.dir}`,
          ...report.checks.map((c) => `  ${c.passed ? (c.skipped ? 'skip' : 'pass') : 'FAIL'}  ${c.name}`),
          report.passed
            ? 'conforms: every check passed'
            : `does not conform: ${failures.length} failure${failures.length === 1 ? '' : 's'}\n  ${failures.join('\n  ')}`,
        ].join('\n'),
      );
    }
    return report.passed ? 0 : 1;
  },
};
