/**
 * Shell blocks are not run (they start servers, load them, install things); their commands are read well enough to
 * check what can be checked offline: every `swapless …` line against the CLI's own parser, every `npm run …` against
 * the scripts that exist.
 */
import type { Snippet } from './markdown.js';

/** One simple command of a shell block: its words and the block line it starts on (0-based). */
export interface ShellCommand {
  words: string[];
  offset: number;
}

/** Languages whose blocks are shell commands; `console` blocks hold commands only on `$ ` lines. */
export const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console']);

/** Joins `\` continuations and keeps the command lines (for `console`, the `$ ` lines without the prompt). */
function commandLines(s: Snippet): { text: string; offset: number }[] {
  const out: { text: string; offset: number }[] = [];
  const lines = s.code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let text = lines[i]!;
    const offset = i;
    if (s.lang === 'console') {
      if (!text.startsWith('$ ')) continue;
      text = text.slice(2);
    } else if (text.startsWith('$ ')) {
      text = text.slice(2);
    }
    while (text.endsWith('\\') && i + 1 < lines.length) {
      text = `${text.slice(0, -1)} ${lines[++i]!.trim()}`;
    }
    out.push({ text, offset });
  }
  return out;
}

const OPERATORS = new Set(['&&', '||', ';', '|', '&']);

/**
 * Splits one line into simple commands. Quotes are honoured, `$(…)` and `${…}` stay one word, a `#` that starts a
 * word ends the line, redirections and their targets are dropped.
 */
export function tokenize(line: string): string[][] {
  const commands: string[][] = [[]];
  let word = '';
  let inWord = false;
  const push = () => {
    if (inWord) commands.at(-1)!.push(word);
    word = '';
    inWord = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word += line.slice(i + 1, end === -1 ? line.length : end);
      inWord = true;
      i = end === -1 ? line.length : end;
    } else if (c === '$' && (line[i + 1] === '(' || line[i + 1] === '{')) {
      const close = line[i + 1] === '(' ? ')' : '}';
      let depth = 0;
      let j = i + 1;
      for (; j < line.length; j++) {
        if (line[j] === line[i + 1]) depth++;
        else if (line[j] === close && --depth === 0) break;
      }
      word += line.slice(i, j + 1);
      inWord = true;
      i = j;
    } else if (c === ' ' || c === '\t') {
      push();
    } else if (c === '#' && !inWord) {
      break;
    } else if ('&|;'.includes(c)) {
      push();
      const two = line.slice(i, i + 2);
      i += OPERATORS.has(two) ? 1 : 0;
      commands.push([]);
    } else {
      word += c;
      inWord = true;
    }
  }
  push();
  return commands
    .map((words) => {
      const kept: string[] = [];
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        if (/^\d?[<>]/.test(w)) {
          if (/^\d?[<>]{1,2}&?$/.test(w)) i++; // `> file`: drop the target too
          continue;
        }
        kept.push(w);
      }
      return kept;
    })
    .filter((words) => words.length > 0);
}

/** Every simple command of a shell block, environment assignments before the command name removed. */
export function shellCommands(s: Snippet): ShellCommand[] {
  const out: ShellCommand[] = [];
  for (const { text, offset } of commandLines(s)) {
    for (let words of tokenize(text)) {
      while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words = words.slice(1);
      if (words.length > 0) out.push({ words, offset });
    }
  }
  return out;
}

/** The argv after `swapless` when a command runs the CLI (`swapless …`, `npx swapless …`), else undefined. */
export function swaplessArgv(words: readonly string[]): string[] | undefined {
  if (words[0] === 'swapless') return words.slice(1);
  if (words[0] === 'npx' && words[1] === 'swapless') return words.slice(2);
  if (words[0] === 'node' && /(^|\/)apps\/cli\/bin\/swapless\.js$/.test(words[1] ?? ''))
    return words.slice(2);
  return undefined;
}

/** The script an `npm run X` / `npm start` / `npm test` command names, with the workspace of `-w W`, if any. */
export function npmScript(words: readonly string[]): { script: string; workspace?: string } | undefined {
  if (words[0] !== 'npm') return undefined;
  const rest = words.slice(1);
  let workspace: string | undefined;
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i]!;
    if (w === '-w' || w === '--workspace') workspace = rest[++i];
    else if (w.startsWith('--workspace=')) workspace = w.slice('--workspace='.length);
    else if (w === '--') break;
    else if (!w.startsWith('-')) args.push(w);
  }
  const [verb, name] = args;
  if (verb === 'start' || verb === 'test') return { script: verb, ...(workspace ? { workspace } : {}) };
  if ((verb === 'run' || verb === 'run-script') && name)
    return { script: name, ...(workspace ? { workspace } : {}) };
  return undefined;
}
