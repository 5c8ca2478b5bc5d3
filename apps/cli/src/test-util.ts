// Test-only helpers shared by the CLI's test files (not part of the built CLI: tsup bundles from main.ts).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { main } from './main.js';

/** Runs the CLI in-process with buffered stdout/stderr. */
export async function cli(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { status, out, err };
}

/**
 * Points SWAPLESS_CACHE_DIR at a fresh temporary directory for the calling test file (restored afterwards),
 * so tests never read or write the user's cache. Returns a getter for the directory.
 */
export function useTempCache(prefix: string): () => string {
  const saved = process.env.SWAPLESS_CACHE_DIR;
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `swapless-cli-${prefix}-`));
    process.env.SWAPLESS_CACHE_DIR = dir;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SWAPLESS_CACHE_DIR;
    else process.env.SWAPLESS_CACHE_DIR = saved;
  });
  return () => dir;
}
