// Every ```ts / ```js snippet of the documentation runs to exit 0, each in its own node process (vitest.config.ts
// sets how many at a time).
import { describe, expect, it } from 'vitest';
import { docFiles, extractSnippets, readDoc, where } from './markdown.js';
import { JS_LANGS, runSnippet, TS_LANGS } from './snippets.js';

const TIMEOUT_MS = 150_000;

const runnable = docFiles()
  .flatMap((f) => extractSnippets(f, readDoc(f)))
  .filter((s) => TS_LANGS.has(s.lang) || JS_LANGS.has(s.lang));

describe.concurrent('documentation snippets run', () => {
  it('finds snippets to run', () => {
    expect(runnable.length).toBeGreaterThan(10);
  });
  for (const s of runnable) {
    it(`${where(s, -1)} (${s.lang})`, { timeout: TIMEOUT_MS + 10_000 }, async () => {
      const r = await runSnippet(s, TIMEOUT_MS);
      const how =
        r.signal !== null
          ? `was killed (${r.signal}) after ${(r.ms / 1000).toFixed(0)} s`
          : `exited ${r.exitCode}`;
      expect(
        r.exitCode,
        `the ${s.lang} snippet at ${where(s, -1)} ${how}\n--- stderr\n${r.stderr.slice(-3000)}\n--- stdout\n${r.stdout.slice(-1000)}`,
      ).toBe(0);
    });
  }
});
