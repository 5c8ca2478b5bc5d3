// Shared by the fake edgetpu_compiler scripts (tests only): parses the command line the way the real
// compiler documents it, so the tests can assert which flags we pass.
const VALUED = new Map([
  ['-o', 'out_dir'],
  ['--out_dir', 'out_dir'],
  ['-t', 'timeout_sec'],
  ['--timeout_sec', 'timeout_sec'],
  ['-i', 'intermediate_tensors'],
  ['--intermediate_tensors', 'intermediate_tensors'],
  ['-m', 'min_runtime_version'],
  ['--min_runtime_version', 'min_runtime_version'],
  ['-n', 'num_segments'],
  ['--num_segments', 'num_segments'],
]);

/** @param {string[]} argv */
export function parseArgs(argv) {
  /** @type {Record<string, string | boolean>} */
  const flags = {};
  /** @type {string[]} */
  const models = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    if (VALUED.has(name)) {
      flags[VALUED.get(name)] = inline ?? argv[++i];
    } else if (arg.startsWith('-')) {
      flags[arg.replace(/^-+/, '')] = true;
    } else {
      models.push(arg);
    }
  }
  return { flags, models };
}

export const VERSION = process.env.FAKE_EDGETPU_VERSION ?? '16.0.384591198';
