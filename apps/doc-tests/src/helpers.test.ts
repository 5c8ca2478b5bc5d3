// The pieces the documentation tests stand on, each shown to fail on what it must reject: fences and their lines,
// links and anchors, shell words, and the CLI's own parser through dry-parse.mjs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchors, extractLinks, extractSnippets } from './markdown.js';
import { npmScript, shellCommands, swaplessArgv, tokenize } from './shell.js';

describe('extractSnippets', () => {
  it('gives each block its language and the line of its opening fence, indentation removed', () => {
    const md = 'text\n\n```ts\nconst a = 1;\n```\n\n1. step\n   ```sh\n   npx swapless zoo\n   ```\n';
    expect(extractSnippets('x.md', md)).toEqual([
      { file: 'x.md', line: 3, lang: 'ts', code: 'const a = 1;' },
      { file: 'x.md', line: 8, lang: 'sh', code: 'npx swapless zoo' },
    ]);
  });
  it('refuses an unclosed fence, naming its line', () => {
    expect(() => extractSnippets('x.md', 'a\n```js\nx()\n')).toThrow('x.md:2: code fence is never closed');
  });
});

describe('extractLinks and anchors', () => {
  it('finds inline links and images outside code, with their lines', () => {
    const md = '[a](docs/a.md#b) `[no](c.md)`\n```\n[no](d.md)\n```\n![i](img/x.svg)';
    expect(extractLinks('x.md', md).map((l) => [l.line, l.target])).toEqual([
      [1, 'docs/a.md#b'],
      [5, 'img/x.svg'],
    ]);
  });
  it('makes GitHub anchors, duplicates numbered', () => {
    expect([...anchors('# Which models work?\n## `swapless plan`\n## Notes\n## Notes')]).toEqual([
      'which-models-work',
      'swapless-plan',
      'notes',
      'notes-1',
    ]);
  });
});

describe('shell words', () => {
  it('splits on operators, keeps quotes and $(…) whole, drops comments and redirections', () => {
    expect(tokenize(`cd a && npx swapless load --token "$(cat t)" > out.txt # note`)).toEqual([
      ['cd', 'a'],
      ['npx', 'swapless', 'load', '--token', '$(cat t)'],
    ]);
  });
  it('reads console prompts, continuations and environment prefixes', () => {
    const s = {
      file: 'x.md',
      line: 1,
      lang: 'console',
      code: '$ A=1 swapless plan w.json \\\n  --json\n{"out": 1}',
    };
    expect(shellCommands(s)).toEqual([{ words: ['swapless', 'plan', 'w.json', '--json'], offset: 0 }]);
  });
  it('recognises the CLI and npm scripts', () => {
    expect(swaplessArgv(['npx', 'swapless', 'zoo'])).toEqual(['zoo']);
    expect(swaplessArgv(['npx', 'vitest'])).toBeUndefined();
    expect(npmScript(['npm', 'run', '-w', '@swapless/x', 'build'])).toEqual({
      script: 'build',
      workspace: '@swapless/x',
    });
    expect(npmScript(['npm', 'ci'])).toBeUndefined();
  });
});

describe('dry-parse.mjs', () => {
  it("accepts what the CLI's parser accepts and rejects unknown commands, unknown flags and missing values", () => {
    const lines = [
      ['inspect', 'm.tflite', '--cuts', '3'],
      ['serve', '--port', '0'],
      ['nosuch'],
      ['inspect', 'm.tflite', '--bogus'],
      ['load', '--url'],
      ['zoo', '--help'],
    ];
    const out = execFileSync(process.execPath, [fileURLToPath(new URL('./dry-parse.mjs', import.meta.url))], {
      input: JSON.stringify(lines),
    });
    const results = JSON.parse(out.toString('utf8')) as { ok: boolean; message?: string }[];
    expect(results.map((r) => r.ok)).toEqual([true, true, false, false, false, true]);
    expect(results[2]?.message).toContain('unknown command "nosuch"');
    expect(results[3]?.message).toContain("Unknown option '--bogus'");
    expect(results[4]?.message).toContain("'--url");
  });
});
