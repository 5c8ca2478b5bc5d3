/**
 * The repository's Dockerfile and .dockerignore as data, for the tests that hold them to the repository (no
 * docker engine is needed, nor used): stages with their instructions, build arguments substituted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './manifests.js';

/** One instruction: `RUN`, `COPY`, … with its arguments (continuation lines joined, comments dropped). */
export interface Instruction {
  op: string;
  args: string;
}

/** One `FROM … AS name` stage. */
export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** The instructions of a Dockerfile text, continuation lines joined. */
export function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (current !== '' && line.trimStart().startsWith('#')) continue;
    current += current === '' ? line.trim() : ` ${line.trim()}`;
    if (current.endsWith('\\')) {
      current = current.slice(0, -1).trimEnd();
      continue;
    }
    const m = /^(\S+)\s*(.*)$/.exec(current)!;
    out.push({ op: m[1]!.toUpperCase(), args: m[2]! });
    current = '';
  }
  return out;
}

/** The stages of a Dockerfile, with `${ARG}` in FROM lines replaced by the ARGs' values (defaults, or `args`). */
export function stages(text: string, args: Readonly<Record<string, string>> = {}): Stage[] {
  const globals: Record<string, string> = {};
  const out: Stage[] = [];
  for (const i of instructions(text)) {
    if (i.op === 'ARG' && out.length === 0) {
      const [name = '', value = ''] = i.args.split('=', 2);
      globals[name] = args[name] ?? value;
    } else if (i.op === 'FROM') {
      const expanded = i.args.replace(/\$\{(\w+)\}/g, (_m, n: string) => globals[n] ?? '');
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(expanded)!;
      out.push({ name: m[2] ?? `stage${out.length}`, from: m[1]!, instructions: [] });
    } else if (out.length > 0) {
      out.at(-1)!.instructions.push(i);
    }
  }
  return out;
}

/** The chain of stages the image is made of, from the last stage back through stages it is built `FROM`. */
export function imageChain(all: readonly Stage[]): Stage[] {
  const chain: Stage[] = [];
  let stage: Stage | undefined = all.at(-1);
  while (stage) {
    chain.unshift(stage);
    const from = stage.from;
    stage = all.find((s) => s.name === from);
  }
  return chain;
}

/** `KEY=value KEY2=value2` of an ENV instruction. */
export function envOf(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|\S+)/g)) out[m[1]!] = m[3] ?? m[2]!;
  return out;
}

export function readRepoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** The patterns of .dockerignore (comments and blank lines dropped). */
export function dockerignore(): string[] {
  return readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Whether a repository path is left out of the build context by `patterns` (`**`, `*` and plain prefixes). */
export function ignored(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    const re = new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .split('**/')
        .map((part) => part.replace(/\*/g, '[^/]*'))
        .join('(?:.*/)?')}(?:/.*)?$`,
    );
    return re.test(path);
  });
}
