// A long-lived child of bench/fuzz-bench.mjs that runs mutants on the real TFLite runtime, one per IPC message.
//
// Path "run" (default) is `swapless run FILE --repeat 1 --warmup 0 --json [extra args]` through the CLI's own
// main(): the same code, flags and defaults as the command, without paying Node's start-up per mutant. This
// process *is* the run process, so a mutant that kills it by signal is a death of `swapless run`.
// Path "unverified" skips every SwapLess check: createInterpreter on the bytes, zero inputs, one invoke — what
// the native library does with a file nobody verified (used to measure what the verifier catches).
//
// Message in: { id, file, args }. Message out: { id, exit, code } where exit is the CLI's exit status and code
// the SwapLess error code (null on success, 'SWAPLESS_INTERNAL' for an untyped error).

import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'run';

/** Runs one file through the CLI's main(); resolves to { exit, code }. */
async function viaRun(main, file, args) {
  let printed = '';
  const io = { out: (t) => (printed += t), err: () => {} };
  const exit = await main(['run', file, '--repeat', '1', '--warmup', '0', '--json', ...args], io);
  let code = null;
  if (exit !== 0) {
    try {
      code = JSON.parse(printed).error?.code ?? 'SWAPLESS_INTERNAL';
    } catch {
      code = 'SWAPLESS_INTERNAL';
    }
  }
  return { exit, code };
}

/** Loads, feeds zeros and invokes once with no verification at all. */
function viaUnverified(edgetpu, file) {
  try {
    // verify: false — createInterpreter verifies by default, and this path measures what TFLite does unguarded.
    const interpreter = edgetpu.createInterpreter(new Uint8Array(readFileSync(file)), {
      threads: 1,
      verify: false,
    });
    try {
      interpreter.inputs.forEach((info, i) => {
        const Type = info.arrayType === null ? undefined : globalThis[info.arrayType];
        if (Type !== undefined) interpreter.setInput(i, new Type(info.byteSize / Type.BYTES_PER_ELEMENT));
      });
      interpreter.invoke();
    } finally {
      interpreter.dispose();
    }
    return { exit: 0, code: null };
  } catch (e) {
    return { exit: 1, code: typeof e?.code === 'string' ? e.code : 'SWAPLESS_INTERNAL' };
  }
}

const handler =
  path === 'unverified'
    ? await import('@swapless/edgetpu').then((m) => (file) => viaUnverified(m, file))
    : await import('../apps/cli/dist/main.js').then((m) => (file, args) => viaRun(m.main, file, args));

process.on('message', async (msg) => {
  const result = await handler(msg.file, msg.args ?? []);
  process.send({ id: msg.id, ...result });
});
process.send({ ready: true });
