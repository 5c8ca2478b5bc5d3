/**
 * The profile cache. A profile is only reusable on the same model bytes, runtime, machine and settings, so
 * those make up the key. The key is hashed into the file name (lookup is one `readFile`), and the identity
 * inside the file is compared again on load: a file copied from another machine, or edited, under a
 * matching name must not be trusted just because of its name.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { isSwapLessError } from '@swapless/core';
import { validateProfile } from './schema.js';
import { type HostIdentity, PROFILE_SCHEMA_VERSION, type Profile, type RuntimeIdentity } from './types.js';

/** This machine's identity as a profile records it: stable facts only, never clock speed or load. */
export function hostIdentity(): HostIdentity {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() || 'unknown',
    cores: list.length > 0 ? list.length : availableParallelism(),
    platform: process.platform,
    arch: process.arch,
  };
}

/** Everything a cached profile must match to be reused. */
export interface CacheKey {
  schemaVersion: number;
  modelSha256: string;
  runtime: RuntimeIdentity;
  host: HostIdentity;
  /** The selection as recorded in `settings.cuts` (and `maxCuts` for `auto`): the document says what was asked. */
  selection: Profile['settings']['cuts'];
  maxCuts?: number;
  /** Resolved cut points, ascending. */
  cuts: number[];
  threads: number[];
  warmup: number;
  repetitions: number;
  blockSize: number;
  seed: number;
}

/** JSON with object keys sorted, so equal keys hash equally whatever order they were built in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The cache file of a key: `<dir>/<first 16 hex of the model hash>-<first 16 hex of the key hash>.json`. */
export function cacheFile(dir: string, key: CacheKey): string {
  const digest = createHash('sha256').update(canonical(key)).digest('hex');
  return join(dir, `${key.modelSha256.slice(0, 16)}-${digest.slice(0, 16)}.json`);
}

/** The key a profile document was measured under. */
export function keyOfProfile(p: Profile): CacheKey {
  return {
    schemaVersion: p.schemaVersion,
    modelSha256: p.model.sha256,
    runtime: p.runtime,
    host: p.host,
    selection: p.settings.cuts,
    maxCuts: p.settings.maxCuts,
    cuts: p.cuts.map((c) => c.k),
    threads: p.settings.threads,
    warmup: p.settings.warmup,
    repetitions: p.settings.repetitions,
    blockSize: p.settings.blockSize,
    seed: p.settings.seed,
  };
}

/** Outcome of a cache lookup. */
export type CacheLookup =
  | { status: 'hit'; profile: Profile }
  | { status: 'miss' }
  | { status: 'ignored'; reason: string };

/**
 * Reads a cache file. Missing → miss. Unreadable, not JSON, invalid, or measured under another key →
 * ignored with the reason (the caller re-measures and overwrites); such a file is never returned.
 */
export async function readCache(path: string, key: CacheKey): Promise<CacheLookup> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // ENOTDIR: the cache directory cannot exist (a file is in the way); the write will warn about that.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'miss' };
    return { status: 'ignored', reason: `unreadable (${(error as Error).message})` };
  }
  let profile: Profile;
  try {
    profile = validateProfile(JSON.parse(text), path);
  } catch (error) {
    if (error instanceof SyntaxError) return { status: 'ignored', reason: `not JSON (${error.message})` };
    if (isSwapLessError(error)) return { status: 'ignored', reason: error.message };
    throw error;
  }
  if (profile.schemaVersion !== PROFILE_SCHEMA_VERSION) {
    return { status: 'ignored', reason: `schema version ${profile.schemaVersion}` };
  }
  const stored = keyOfProfile(profile);
  const fields = [...new Set([...Object.keys(key), ...Object.keys(stored)])] as (keyof CacheKey)[];
  const mismatches = fields.filter((field) => canonical(stored[field]) !== canonical(key[field]));
  if (mismatches.length > 0) {
    return { status: 'ignored', reason: `measured under another ${mismatches.join(', ')}` };
  }
  return { status: 'hit', profile };
}
