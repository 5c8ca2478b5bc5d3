import { parseServeArgs, SERVE_HELP, serve } from '@swapless/server';
import type { Command } from '../command.js';

/** `swapless serve`: the reference server (the same program as `npm start`; docs/server.md). */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the server: KServe v2 API, management API, Prometheus metrics and dashboard (docs/server.md)',
  help: SERVE_HELP,
  async run(argv, io) {
    // Validate the flags before anything starts, so a bad one is a usage error (exit 2) with nothing to undo.
    parseServeArgs(argv);
    return serve(argv, { io });
  },
};
