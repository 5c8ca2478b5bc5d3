/**
 * Type-checks and runs the TypeScript and JavaScript snippets. Each snippet becomes a module inside this package
 * (so `@swapless/*` imports resolve to the workspace's builds, as they would for a user who installed them); the
 * type check is one TypeScript program over all of them with the settings a user's strict NodeNext project has, and
 * each run is a separate `node` process in an empty directory of its own.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { Snippet } from './markdown.js';

/** Languages whose blocks are type-checked (TypeScript only) and run. */
export const TS_LANGS = new Set(['ts', 'typescript']);
export const JS_LANGS = new Set(['js', 'javascript', 'mjs']);

const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
/**
 * Where snippet modules live: inside this package, so Node resolves their `@swapless/*` imports through the
 * workspace's node_modules; under node_modules/.cache, which git and the linter ignore.
 */
export const SNIPPET_DIR = join(PACKAGE_DIR, 'node_modules', '.cache', 'doc-snippets');

/**
 * One cache directory for every snippet of this process's runs (zoo models, profiles, a server's state): snippets
 * share what they generate, and nothing lands in the user's own cache. Inside TMPDIR, which the test run removes.
 */
let cacheDir: string | undefined;
function snippetCacheDir(): string {
  cacheDir ??= mkdtempSync(join(tmpdir(), 'doc-tests-cache-'));
  return cacheDir;
}

/** A file name for the snippet at file:line, e.g. docs-queueing-md-L7. */
export function snippetName(s: Snippet): string {
  return `${s.file.replace(/[^A-Za-z0-9]+/g, '-')}-L${s.line}`;
}

/** What a user's project would use: strict, NodeNext, ES2022 (top-level await). */
const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts'],
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
  noEmit: true,
  types: ['node'],
};

/** A snippet's text as a module: without import or export, TypeScript would treat it as a global script. */
function asModule(code: string): string {
  return /^\s*(import|export)\s/m.test(code) ? code : `${code}\nexport {};\n`;
}

/** Type errors per snippet (keyed by snippetName), each message naming the markdown file and line. */
export function typecheck(snippets: readonly Snippet[]): Map<string, string[]> {
  const virtual = new Map<string, Snippet>();
  for (const s of snippets) virtual.set(join(SNIPPET_DIR, `${snippetName(s)}.ts`), s);
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists.call(host, f);
  host.readFile = (f) => {
    const s = virtual.get(f);
    return s ? asModule(s.code) : readFile.call(host, f);
  };
  host.getSourceFile = (f, lang, onError, create) => {
    const s = virtual.get(f);
    return s
      ? ts.createSourceFile(f, asModule(s.code), lang, true)
      : getSourceFile.call(host, f, lang, onError, create);
  };
  const program = ts.createProgram([...virtual.keys()], COMPILER_OPTIONS, host);
  const out = new Map<string, string[]>();
  for (const [path, s] of virtual) {
    const sf = program.getSourceFile(path)!;
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    out.set(
      snippetName(s),
      diags.map((d) => {
        const { line } = d.start !== undefined ? sf.getLineAndCharacterOfPosition(d.start) : { line: 0 };
        return `${s.file}:${s.line + 1 + line}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      }),
    );
  }
  return out;
}

/** The result of running one snippet. */
export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Compiles (TypeScript: types stripped, nothing checked) and runs one snippet with node in an empty directory. */
export async function runSnippet(s: Snippet, timeoutMs: number): Promise<RunResult> {
  const js = TS_LANGS.has(s.lang)
    ? ts.transpileModule(asModule(s.code), {
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          verbatimModuleSyntax: false,
        },
      }).outputText
    : s.code;
  const file = join(SNIPPET_DIR, `${snippetName(s)}.mjs`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, js);
  const cwd = mkdtempSync(join(tmpdir(), `${snippetName(s)}-`));
  const start = performance.now();
  try {
    return await new Promise<RunResult>((resolve) => {
      execFile(
        process.execPath,
        [file],
        {
          cwd,
          env: { ...process.env, SWAPLESS_CACHE_DIR: snippetCacheDir() },
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: 16 << 20,
        },
        (err, stdout, stderr) => {
          const e = err as (Error & { code?: number | string; signal?: string }) | null;
          resolve({
            exitCode: e ? (typeof e.code === 'number' ? e.code : null) : 0,
            signal: e?.signal ?? null,
            stdout,
            stderr,
            ms: performance.now() - start,
          });
        },
      );
    });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
