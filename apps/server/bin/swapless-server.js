#!/usr/bin/env node
// The SwapLess server (what `npm start` runs). Flags: see --help; reference: docs/server.md.
import { serve } from '../dist/index.js';

try {
  process.exitCode = await serve(process.argv.slice(2));
} catch (err) {
  const code = typeof err?.code === 'string' ? err.code : 'SWAPLESS_INTERNAL';
  if (code.startsWith('SWAPLESS_')) process.stderr.write(`swapless-server: ${err.message} [${code}]\n`);
  else process.stderr.write(`swapless-server: internal error: ${err?.stack ?? err}\n`);
  process.exitCode = code === 'SWAPLESS_USAGE' ? 2 : 1;
}
