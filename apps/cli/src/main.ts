/**
 * The `swapless` command. One top-level handler turns every error into an exit status and a message:
 * 2 for usage errors, 1 for failures; with `--json` the error is printed as JSON on stdout as well.
 */
import { ErrorCodes, isSwapLessError } from '@swapless/core';
import type { Command } from './command.js';
import { benchCommand } from './commands/bench.js';
import { compileCommand } from './commands/compile.js';
import { demoCommand } from './commands/demo.js';
import { emulateCommand } from './commands/emulate.js';
import { inspectCommand } from './commands/inspect.js';
import { loadCommand } from './commands/load.js';
import { planCommand } from './commands/plan.js';
import { pluginsCommand } from './commands/plugins.js';
import { profileCommand } from './commands/profile.js';
import { runCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import { splitCommand } from './commands/split.js';
import { zooCommand } from './commands/zoo.js';
import { type Output, processOutput } from './output.js';

/** Every command, in the order `swapless --help` lists them. */
export const commands: readonly Command[] = [
  demoCommand,
  inspectCommand,
  splitCommand,
  runCommand,
  zooCommand,
  profileCommand,
  emulateCommand,
  compileCommand,
  planCommand,
  benchCommand,
  pluginsCommand,
  serveCommand,
  loadCommand,
];

const VERSION = '0.1.0';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'swapless — adaptive multi-tenant Edge TPU + CPU inference',
    '',
    'Usage: swapless <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help and --json (one JSON document on stdout; shapes in docs/cli.md).',
    'Exit status: 0 success, 1 failure, 2 bad arguments.',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and script) and resolves to the exit status. */
export async function main(argv: string[], io: Output = processOutput): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(VERSION);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`swapless: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return 0;
  }
  const json = rest.includes('--json');
  try {
    return await command.run(rest, io);
  } catch (err) {
    return reportError(err, json, io, command.name);
  }
}

function reportError(err: unknown, json: boolean, io: Output, command: string): number {
  // Exit 2 is for what the user typed: flags, arguments, and a cut point given with --cut/--cuts/--at. What a
  // model cannot do (nothing maps to the Edge TPU, compiled, custom op) is SWAPLESS_UNSUPPORTED_MODEL: exit 1.
  const usageError =
    isSwapLessError(err, ErrorCodes.USAGE) ||
    isSwapLessError(err, ErrorCodes.INVALID_ARGUMENT) ||
    isSwapLessError(err, ErrorCodes.INVALID_CUT);
  if (isSwapLessError(err)) {
    if (json) io.out(JSON.stringify({ error: err.toJSON() }, null, 2));
    io.err(`swapless ${command}: ${err.message} [${err.code}]`);
  } else {
    // Not one of ours: a bug. Show the stack so it can be reported.
    const e = err instanceof Error ? err : new Error(String(err));
    if (json)
      io.out(
        JSON.stringify({ error: { name: e.name, code: ErrorCodes.INTERNAL, message: e.message } }, null, 2),
      );
    io.err(`swapless ${command}: internal error: ${e.stack ?? e.message}`);
  }
  return usageError ? 2 : 1;
}
