// The documentation holds what it shows: TypeScript snippets type-check, data blocks parse, `swapless` command lines
// parse with the CLI's own parser, `npm run` scripts exist, relative links and their anchors resolve, and nothing
// points at the development environment instead of a public source.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  anchors,
  docFiles,
  extractLinks,
  extractSnippets,
  REPO_ROOT,
  readDoc,
  repoRelative,
  type Snippet,
  where,
} from './markdown.js';
import { npmScript, SHELL_LANGS, shellCommands, swaplessArgv } from './shell.js';
import { snippetName, TS_LANGS, typecheck } from './snippets.js';

const files = docFiles();
const snippets: Snippet[] = files.flatMap((f) => extractSnippets(f, readDoc(f)));

describe('the documentation set', () => {
  it('is found by glob: the root README, docs/*.md and the package READMEs', () => {
    expect(files).toContain('README.md');
    expect(files.filter((f) => f.startsWith('docs/')).length).toBeGreaterThan(10);
    expect(files.some((f) => /^packages\/[^/]+\/README\.md$/.test(f))).toBe(true);
  });
});

describe('TypeScript snippets type-check (strict, NodeNext)', () => {
  const ts = snippets.filter((s) => TS_LANGS.has(s.lang));
  const errors = typecheck(ts);
  for (const s of ts) {
    it(where(s, -1), () => {
      expect(errors.get(snippetName(s)), `type errors in the snippet at ${where(s, -1)}`).toEqual([]);
    });
  }
});

/** Removes // and /* *\/ comments outside strings, for ```jsonc. */
function stripJsonComments(text: string): string {
  return text.replace(/("(?:\\.|[^"\\])*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, str) => str ?? '');
}

describe('data blocks parse', () => {
  for (const s of snippets.filter((x) => ['json', 'jsonc', 'yaml', 'yml'].includes(x.lang))) {
    it(`${where(s, -1)} (${s.lang})`, () => {
      const parse = () => {
        if (s.lang === 'json') JSON.parse(s.code);
        else if (s.lang === 'jsonc') JSON.parse(stripJsonComments(s.code).replace(/,(\s*[}\]])/g, '$1'));
        else parseYaml(s.code);
      };
      expect(parse, `the ${s.lang} block at ${where(s, -1)} does not parse`).not.toThrow();
    });
  }
});

describe('bare fences hold no code', () => {
  // A fence without a language is text; code in one would silently escape these tests.
  const looksLikeCode =
    /^\s*(import\s|export\s|const\s|let\s|await\s|npx\s|npm\s|swapless\s+[a-z-]+(\s|$)|\$ )/;
  for (const s of snippets.filter((x) => x.lang === '')) {
    it(where(s, -1), () => {
      expect(
        looksLikeCode.test(s.code),
        `the bare fence at ${where(s, -1)} holds code: give it a language (ts, js, sh) or a text fence`,
      ).toBe(false);
    });
  }
});

const DRY_PARSE = fileURLToPath(new URL('./dry-parse.mjs', import.meta.url));

describe('shell blocks name real commands', () => {
  const shell = snippets.filter((s) => SHELL_LANGS.has(s.lang));
  const calls = shell.flatMap((s) =>
    shellCommands(s).flatMap((c) => {
      const argv = swaplessArgv(c.words);
      return argv ? [{ at: where(s, c.offset), argv }] : [];
    }),
  );
  it('has swapless command lines to check', () => {
    expect(calls.length).toBeGreaterThan(5);
  });
  const results: { ok: boolean; message?: string }[] = JSON.parse(
    execFileSync(process.execPath, [DRY_PARSE], {
      input: JSON.stringify(calls.map((c) => c.argv)),
      cwd: REPO_ROOT,
    })
      .toString('utf8')
      .trim() || '[]',
  );
  calls.forEach((c, i) => {
    it(`${c.at}: swapless ${c.argv.join(' ').slice(0, 80)}`, () => {
      const r = results[i];
      expect(r?.ok, `${c.at}: \`swapless ${c.argv.join(' ')}\` does not parse: ${r?.message}`).toBe(true);
    });
  });

  const scripts = shell.flatMap((s) =>
    shellCommands(s).flatMap((c) => {
      const n = npmScript(c.words);
      return n ? [{ at: where(s, c.offset), ...n }] : [];
    }),
  );
  const manifests = new Map<string, Record<string, string>>();
  for (const dir of ['.', ...['packages', 'native', 'apps'].flatMap((d) => listDirs(d))]) {
    const pj = join(REPO_ROOT, dir, 'package.json');
    if (!existsSync(pj)) continue;
    const json = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; scripts?: Record<string, string> };
    manifests.set(dir === '.' ? '' : (json.name ?? dir), json.scripts ?? {});
    manifests.set(dir, json.scripts ?? {});
  }
  for (const s of scripts) {
    it(`${s.at}: npm ${s.workspace ? `-w ${s.workspace} ` : ''}${s.script}`, () => {
      const have = manifests.get(s.workspace ?? '');
      expect(have, `${s.at}: no workspace ${s.workspace}`).toBeDefined();
      expect(Object.keys(have ?? {}), `${s.at}: no npm script "${s.script}"`).toContain(s.script);
    });
  }
});

function listDirs(dir: string): string[] {
  const abs = join(REPO_ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `${dir}/${e.name}`);
}

describe('relative links resolve', () => {
  const anchorCache = new Map<string, Set<string>>();
  for (const file of files) {
    it(file, () => {
      const broken: string[] = [];
      for (const link of extractLinks(file, readDoc(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue; // https:, mailto:
        const [path = '', anchor] = link.target.split('#');
        const target =
          path === '' ? join(REPO_ROOT, file) : resolve(dirname(join(REPO_ROOT, file)), decodeURI(path));
        const rel = repoRelative(target);
        if (rel.startsWith('..') || !existsSync(target)) {
          broken.push(`${file}:${link.line}: ${link.target} (no such file in the repository)`);
          continue;
        }
        // A package's README travels in its tarball without the rest of the repository.
        const pkg = /^((?:packages|native)\/[^/]+)\/README\.md$/.exec(file)?.[1];
        if (pkg && !rel.startsWith(`${pkg}/`)) {
          broken.push(`${file}:${link.line}: ${link.target} (outside the package: not in its tarball)`);
          continue;
        }
        if (anchor && target.endsWith('.md')) {
          if (!anchorCache.has(target)) anchorCache.set(target, anchors(readFileSync(target, 'utf8')));
          if (!anchorCache.get(target)!.has(anchor)) {
            broken.push(`${file}:${link.line}: ${link.target} (${rel} has no heading #${anchor})`);
          }
        }
      }
      expect(broken, `broken links in ${file}`).toEqual([]);
    });
  }
});

describe('repository paths named in the text exist', () => {
  // `packages/x/src/y.ts` in a doc goes stale when the file moves; build outputs and test artifacts are made later.
  const path = /`((?:packages|apps|native|examples|fixtures|bench|tools|deploy)\/[A-Za-z0-9_./@-]+)`/g;
  for (const file of files) {
    it(file, () => {
      const missing: string[] = [];
      readDoc(file)
        .split('\n')
        .forEach((l, i) => {
          for (const m of l.matchAll(path)) {
            const p = m[1]!.replace(/[.,:;]$/, '');
            if (/\/(build|dist|test-artifacts)\//.test(p)) continue;
            if (!existsSync(join(REPO_ROOT, p))) missing.push(`${file}:${i + 1}: ${p}`);
          }
        });
      expect(missing, `${file} names repository paths that do not exist`).toEqual([]);
    });
  }
});

describe('no pointer to the development environment', () => {
  // Facts cite public sources (Coral's documentation, the TFLite schema, the paper); paths name repository files.
  const forbidden = /\bFACTS(\.md)?\b|\bDESIGN\.md\b|\.\.\/shared\b|(^|[\s`'"(])\/work\//;
  for (const file of files) {
    it(file, () => {
      const text = readDoc(file);
      const hits = text
        .split('\n')
        .map((l, i) => ({ l, i }))
        .filter(({ l }) => forbidden.test(l))
        .map(({ l, i }) => `${file}:${i + 1}: ${l.trim().slice(0, 120)}`);
      expect(hits, `${file} points at the development environment's own notes or paths`).toEqual([]);
    });
  }
});
