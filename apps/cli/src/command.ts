import type { Output } from './output.js';

/** One `swapless` sub-command. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full `--help` text. */
  help: string;
  /** Runs the command; resolves to the exit status. Throws SwapLessError on failure. */
  run(argv: string[], io: Output): Promise<number>;
}
