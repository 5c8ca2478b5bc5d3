// Parses `swapless` command lines with the CLI's own parser without running them. Every command of the CLI parses
// its flags first with node's util.parseArgs (strict); this process replaces util.parseArgs with a wrapper that
// parses for real and then stops the command (syncBuiltinESMExports makes `import { parseArgs } from 'node:util'`
// see the wrapper), so unknown flags, flags missing their value and unknown commands fail exactly as they would for
// a user, and nothing after the parse (models, servers, loads) starts. A separate process, so nothing else ever
// sees the wrapper.
//
// stdin: a JSON array of argv arrays (the words after `swapless`); stdout: a JSON array of { ok, message }.
import { syncBuiltinESMExports } from 'node:module';
import util from 'node:util';

class ParsedStop extends Error {}

const realParseArgs = util.parseArgs;
util.parseArgs = (config) => {
  realParseArgs(config);
  throw new ParsedStop('parsed');
};
syncBuiltinESMExports();

const { commands } = await import('@swapless/cli/dist/main.js');

/** @param {string[]} argv */
async function check(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === '--version' || name === '-v') {
    return { ok: true };
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    return {
      ok: false,
      message: `unknown command ${JSON.stringify(name)} (the CLI has: ${commands.map((c) => c.name).join(', ')})`,
    };
  }
  if (rest.includes('--help') || rest.includes('-h')) return { ok: true };
  const io = { out() {}, err() {} };
  try {
    await command.run(rest, io);
  } catch (err) {
    // The CLI wraps what parseArgs throws (a UsageError whose cause is the parser's error).
    for (let e = err; e instanceof Error; e = e.cause) if (e instanceof ParsedStop) return { ok: true };
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  return { ok: false, message: 'the command ran to its end without parsing its flags with util.parseArgs' };
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const argv of JSON.parse(input)) results.push(await check(argv));
process.stdout.write(JSON.stringify(results));
