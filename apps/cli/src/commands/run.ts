import { createInterpreter, type DelegateChoice } from '@swapless/edgetpu';
import { choiceFlag, intFlag, parseCommand, positionals } from '../args.js';
import type { Command } from '../command.js';
import { backendLabel, type InputMode, makeInputs, ms, summarize, timeRuns } from '../inference.js';
import { loadModel } from '../model-file.js';

const help = `Usage: swapless run MODEL [--threads N] [--delegate auto|edgetpu|cpu] [--xnnpack on|off]
                    [--input random|zero] [--seed S] [--repeat N] [--warmup N] [--json]

Runs a .tflite model on the real TFLite runtime and prints a summary of each output and the measured
invoke time (median, p90 and min over --repeat runs after --warmup untimed runs).

Options:
  --threads N         CPU threads for TFLite and XNNPACK (default 1)
  --delegate D        auto: use an Edge TPU if libedgetpu finds one, else the CPU (default)
                      edgetpu: require the Edge TPU; cpu: never load libedgetpu
  --xnnpack on|off    XNNPACK CPU delegate (default on; int8 and uint8 accelerated)
  --input random|zero input values: seeded random (default) or zeros
  --seed S            seed of the random input (default 1)
  --repeat N          timed runs (default 20)
  --warmup N          untimed runs first (default 3)
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

    const interpreter = createInterpreter((await loadModel(path!)).bytes, {
      threads,
      delegate,
      xnnpack,
    });
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
          threads: b.threads,
          fallbackReason: b.fallbackReason ?? null,
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
