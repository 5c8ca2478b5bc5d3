/**
 * The runnable examples of a package README: its ```ts / ```js fenced blocks (```text, ```jsonc, ```sh … are
 * prose), each turned into an ES module that Node runs as written.
 */
import ts from 'typescript';

/** One runnable block of a README. */
export interface Example {
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'ts' | 'js';
  code: string;
}

const LANGS: Record<string, Example['lang']> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
  mjs: 'js',
};

/** The ```ts and ```js blocks of a markdown text, in order. */
export function runnableExamples(markdown: string): Example[] {
  const out: Example[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)/.exec(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith('```')) body.push(lines[j++]!);
    const lang = LANGS[open[1]!.toLowerCase()];
    if (lang) out.push({ line: i + 1, lang, code: `${body.join('\n')}\n` });
    i = j;
  }
  return out;
}

/** The example as JavaScript Node runs (types erased, type-only imports dropped). */
export function toJavaScript(example: Example): string {
  if (example.lang === 'js') return example.code;
  return ts.transpileModule(example.code, {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: false,
    },
  }).outputText;
}

/** The bare package names an example imports (`@scope/name` or `name`), node: builtins excluded. */
export function importedPackages(code: string): string[] {
  const names = new Set<string>();
  for (const m of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"./][^'"]*)['"]/g)) {
    const spec = m[1]!;
    if (spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return [...names].sort();
}
