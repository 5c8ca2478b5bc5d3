import { UnsupportedModelError } from '@swapless/core';
import { createInterpreter, type DelegateChoice, vetModel } from '@swapless/edgetpu';
import { readModel, runnability } from '@swapless/tflite';
import { choiceFlag, intFlag, parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { backendLabel, type InputMode, makeInputs, ms, summarize, timeRuns } from '../inference.js';
import { readBytes, resolveModelPath } from '../model-file.js';

const help = `Usage: swapless run MODEL [--threads N] [--delegate auto|edgetpu|cpu] [--xnnpack on|off]
                    [--input random|zero] [--seed S] [--repeat N] [--warmup N] [--trusted] [--json]

Runs a .tflite model on the real TFLite runtime and prints a summary of each output and the measured
invoke time (median, p90 and min over --repeat runs after --warmup untimed runs).

The model is verified, then vetted: loaded and run once in a separate short-lived process with the same
options, so a damaged file that would crash TFLite is refused (SWAPLESS_MODEL_REJECTED, exit 1) instead
of killing this command. Verdicts are cached by content, so the second run of a file skips the vetting.

Options:
  --threads N         CPU threads for TFLite and XNNPACK (default 1)
  --delegate D        auto: use an Edge TPU if libedgetpu finds one, else the CPU (default)
                      edgetpu: require the Edge TPU; cpu: never load libedgetpu
  --xnnpack on|off    XNNPACK CPU delegate (default on; int8 and uint8 accelerated)
  --input random|zero input values: seeded random (default) or zeros
  --seed S            seed of the random input (default 1)
  --repeat N          timed runs (default 20)
  --warmup N          untimed runs first (default 3)
  --trusted           skip verification and vetting: for files you made or trust (a damaged file can
                      then crash the process)
  --json              print the result as JSON (docs/cli.md)
  -h, --help          show this help

Environment: SWAPLESS_TFLITE_LIB (TFLite C library), SWAPLESS_EDGETPU_LIB (libedgetpu) override the defaults.`;

export const runCommand: Command = {
  name: 'run',
  summary: 'run a model on the real TFLite runtime (CPU or Edge TPU delegate) and time it',
  help,
  async run(argv, io) {
    const { values, positionals: pos } = parseCommand('run', argv, {
      threads: { type: 'string' },
      delegate: { type: 'string' },
      xnnpack: { type: 'string' },
      input: { type: 'string' },
      seed: { type: 'string' },
      repeat: { type: 'string' },
      warmup: { type: 'string' },
      trusted: { type: 'boolean', default: false },
    });
    const [path] = positionals('run', pos, ['model']);
    const threads = intFlag('threads', values.threads, 1, 256) ?? 1;
    const delegate: DelegateChoice =
      choiceFlag('delegate', values.delegate, ['auto', 'edgetpu', 'cpu'] as const) ?? 'auto';
    const xnnpack = (choiceFlag('xnnpack', values.xnnpack, ['on', 'off'] as const) ?? 'on') === 'on';
    const mode: InputMode = choiceFlag('input', values.input, ['random', 'zero'] as const) ?? 'random';
    const seed = intFlag('seed', values.seed, 0, 2 ** 32 - 1) ?? 1;
    const repeat = intFlag('repeat', values.repeat, 1, 1_000_000) ?? 20;
    const warmup = intFlag('warmup', values.warmup, 0, 1_000_000) ?? 3;

    const bytes = await readBytes(await resolveModelPath(path!));
    const options = { threads, delegate, xnnpack };
    if (!values.trusted) {
      // Verify in-process first (the reader never crashes, and a malformed file costs no child process), refuse what
      // the runtime here cannot run (createInterpreter would, but only after a child had been started for it, on
      // every run: such errors are not cached), then let a child process take the first load and invoke.
      const r = runnability(readModel(bytes));
      if (r.unresolvedCustomOps.length > 0 || (r.compiled && delegate === 'cpu')) {
        throw new UnsupportedModelError(r.reason!, {
          details: { customOps: [...r.unresolvedCustomOps], compiled: r.compiled },
        });
      }
      await vetModel(bytes, { interpreter: options, label: path! });
    }
    const interpreter = createInterpreter(bytes, { ...options, verify: !values.trusted });
    try {
      const inputs = makeInputs(interpreter, mode, seed);
      for (const [i, a] of inputs.entries()) interpreter.setInput(i, a);
      const timing = timeRuns(() => interpreter.invoke(), repeat, warmup);
      const outputs = interpreter.outputs.map((info, i) => summarize(info, interpreter.getOutput(i)));
      const b = interpreter.backend;
      const report = {
        model: path!,
        backend: {
          requested: b.requested,
          edgetpu: b.edgetpu,
          xnnpack: b.xnnpack,
          kernels: b.kernels,
          threads: b.threads,
          fallbackReason: b.fallbackReason ?? null,
          int8: b.int8 ?? null,
          note: b.note ?? null,
          verified: b.verified,
        },
        source: 'measured' as const,
        input: { mode, seed },
        timing,
        inputs: interpreter.inputs.map((t) => ({ name: t.name, type: t.type, shape: t.shape })),
        outputs,
      };
      if (values.json) {
        io.out(JSON.stringify(report, null, 2));
        return 0;
      }
      const lines = [
        `${path}`,
        `  backend: ${backendLabel(b)}${b.fallbackReason ? `\n  (no Edge TPU: ${b.fallbackReason})` : ''}`,
        ...(b.note === undefined ? [] : [`  note:    ${b.note}`]),
        `  input:   ${mode}${mode === 'random' ? ` (seed ${seed})` : ''}: ${report.inputs.map((t) => `${t.name} ${t.type}[${t.shape.join(',')}]`).join(', ')}`,
        `  invoke:  median ${ms(timing.medianMs)} ms, p90 ${ms(timing.p90Ms)} ms, min ${ms(timing.minMs)} ms over ${repeat} runs (measured)`,
        '  outputs:',
        ...outputs.map(
          (o) =>
            `    ${o.name} ${o.type}[${o.shape.join(',')}]  min ${o.min.toPrecision(4)}  max ${o.max.toPrecision(4)}  mean ${o.mean.toPrecision(4)}  first [${o.first.map((v) => v.toPrecision(4)).join(', ')}]`,
        ),
      ];
      io.out(lines.join('\n'));
      return 0;
    } finally {
      interpreter.dispose();
    }
  },
};
