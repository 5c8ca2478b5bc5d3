/**
 * The documentation as data: which markdown files count (found by glob on every run, so a new package README is
 * picked up without editing this package), their fenced code blocks and their links — each with the file and line
 * a failure message names.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is apps/doc-tests/src/markdown.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** One fenced code block. */
export interface Snippet {
  /** Markdown file, relative to the repository root, with forward slashes. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word, lower-cased ('' for a bare fence). */
  lang: string;
  /** The block's text, the fence's indentation removed. */
  code: string;
}

/** One link or image target written in a markdown file. */
export interface Link {
  file: string;
  line: number;
  target: string;
}

/** Where `file:line` of a snippet's n-th line (0-based) is. */
export function where(s: { file: string; line: number }, offset = 0): string {
  return `${s.file}:${s.line + 1 + offset}`;
}

function mdIn(dir: string): string[] {
  const abs = join(REPO_ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `${dir}/${f}`);
}

function readmesUnder(dir: string): string[] {
  const abs = join(REPO_ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(abs, e.name, 'README.md')))
    .map((e) => `${dir}/${e.name}/README.md`)
    .sort();
}

/** Every markdown file a user reads: README.md, docs/*.md and the README of every package and app. */
export function docFiles(): string[] {
  return [
    'README.md',
    ...mdIn('docs'),
    ...readmesUnder('packages'),
    ...readmesUnder('native'),
    ...readmesUnder('apps'),
  ];
}

export function readDoc(file: string): string {
  return readFileSync(join(REPO_ROOT, file), 'utf8');
}

const FENCE = /^( *)(`{3,}|~{3,})(.*)$/;

/** The fenced code blocks of one markdown text; an unclosed fence is an error naming its line. */
export function extractSnippets(file: string, text: string): Snippet[] {
  const lines = text.split('\n');
  const out: Snippet[] = [];
  let open: { indent: number; fence: string; line: number; lang: string; body: string[] } | null = null;
  lines.forEach((raw, i) => {
    const m = FENCE.exec(raw);
    if (open === null) {
      if (m && m[1]!.length <= 3 + 8 && !(m[2]!.startsWith('`') && m[3]!.includes('`'))) {
        const lang = (m[3]!.trim().split(/\s+/)[0] ?? '').toLowerCase();
        open = { indent: m[1]!.length, fence: m[2]!, line: i + 1, lang, body: [] };
      }
      return;
    }
    if (m && m[2]![0] === open.fence[0] && m[2]!.length >= open.fence.length && m[3]!.trim() === '') {
      out.push({ file, line: open.line, lang: open.lang, code: open.body.join('\n') });
      open = null;
      return;
    }
    const strip = Math.min(open.indent, raw.length - raw.trimStart().length);
    open.body.push(raw.slice(strip));
  });
  if (open !== null) {
    throw new Error(`${file}:${(open as { line: number }).line}: code fence is never closed`);
  }
  return out;
}

/** Lines of `text` that are outside fenced code blocks, each with its 1-based number, inline code blanked. */
export function proseLines(text: string): { line: number; text: string; raw: string }[] {
  const out: { line: number; text: string; raw: string }[] = [];
  let fence: string | null = null;
  text.split('\n').forEach((raw, i) => {
    const m = FENCE.exec(raw);
    if (fence === null && m) {
      fence = m[2]!;
      return;
    }
    if (fence !== null) {
      if (m && m[2]![0] === fence[0] && m[2]!.length >= fence.length && m[3]!.trim() === '') fence = null;
      return;
    }
    out.push({ line: i + 1, raw, text: raw.replace(/`[^`]*`/g, (s) => ' '.repeat(s.length)) });
  });
  return out;
}

/** Inline links, images, reference definitions and HTML src/href attributes outside code. */
export function extractLinks(file: string, text: string): Link[] {
  const links: Link[] = [];
  for (const { line, text: t } of proseLines(text)) {
    for (const m of t.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ file, line, target: m[1]! });
    }
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/.exec(t);
    if (def) links.push({ file, line, target: def[1]! });
    for (const m of t.matchAll(/\b(?:src|href)="([^"]+)"/g)) links.push({ file, line, target: m[1]! });
  }
  return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors the headings of a markdown text define (duplicates numbered as GitHub does). */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { raw } of proseLines(text)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!h) continue;
    const base = slug(h[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** A path relative to the repository root, forward slashes. */
export function repoRelative(abs: string): string {
  return relative(REPO_ROOT, abs).split('\\').join('/');
}
