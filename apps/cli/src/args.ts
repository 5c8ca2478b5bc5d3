/**
 * Argument parsing shared by every command: node's parseArgs in strict mode, with its errors turned
 * into UsageError (exit status 2) and typed readers for numbers and choices.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { expected, UsageError } from '@swapless/core';

export { choiceFlag, intFlag } from '@swapless/core';

/** Options every command accepts. */
export const commonOptions = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Parses `argv` for one command; unknown flags and missing values become UsageError. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: O,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...commonOptions, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${message} (see \`swapless ${command} --help\`)`, { cause: err });
  }
}

/** Requires exactly `count` positional arguments named by `names`. */
export function positionals(command: string, given: string[], names: string[]): string[] {
  if (given.length !== names.length) {
    const want = names.map((n) => n.toUpperCase()).join(' ');
    throw new UsageError(
      `${expected(`${names.length} argument(s) ${want}`, `swapless ${command}`, `${given.length} (${given.join(' ') || 'none'})`)}; see \`swapless ${command} --help\``,
    );
  }
  return given;
}
