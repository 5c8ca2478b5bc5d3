/**
 * The content-addressed on-disk store behind variants and co-compiled sets. An entry is a directory whose
 * `manifest.json` is written last and lists every file with its size and SHA-256: an entry without a valid
 * manifest, or whose files do not match it, is corrupt and gets rebuilt. Entries are built in a sibling
 * temporary directory and renamed into place, so readers never see half an entry. Layout: docs/compiler.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expected, SwapLessIoError, writeFileAtomic } from '@swapless/core';

/** Version of the entry layout and of everything that shapes an entry's bytes; part of every key. */
export const STORE_SCHEMA = 1;

/** Name of the file that commits an entry. */
export const MANIFEST_FILE = 'manifest.json';

/** One file of an entry as the manifest records it. */
export interface ManifestFile {
  bytes: number;
  sha256: string;
}

/** The manifest of an entry: its key, what the key was made of, its files, and the entry's JSON payload. */
export interface Manifest<T> {
  schema: number;
  key: string;
  keyMaterial: unknown;
  files: Record<string, ManifestFile>;
  data: T;
}

/** SHA-256 of bytes or a string, lowercase hex. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted, so equal values always hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) {
      sorted[k] = (v as Record<string, unknown>)[k];
    }
    return sorted;
  });
}

/** The key of an entry: SHA-256 of the canonical JSON of its key material and the store schema. */
export function entryKey(keyMaterial: unknown): string {
  return sha256(canonicalJson({ schema: STORE_SCHEMA, ...(keyMaterial as object) }));
}

/** Why an existing entry was rejected, or undefined when it is valid. */
async function checkEntry<T>(dir: string, key: string): Promise<Manifest<T> | string> {
  let manifest: Manifest<T>;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as Manifest<T>;
  } catch (err) {
    return `unreadable manifest (${(err as Error).message})`;
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.schema !== STORE_SCHEMA) {
    return 'manifest of another schema';
  }
  if (manifest.key !== key) return 'manifest of another key';
  if (typeof manifest.files !== 'object' || manifest.files === null) return 'manifest without files';
  for (const [name, expectedFile] of Object.entries(manifest.files)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, name));
    } catch {
      return `missing file ${name}`;
    }
    if (bytes.length !== expectedFile.bytes || sha256(bytes) !== expectedFile.sha256) {
      return `file ${name} does not match its checksum`;
    }
  }
  return manifest;
}

/** Outcome of {@link readEntry}: a valid manifest, nothing, or a corrupt entry (with why). */
export type EntryState<T> =
  | { state: 'valid'; manifest: Manifest<T> }
  | { state: 'missing' }
  | { state: 'corrupt'; reason: string };

/** Reads and verifies the entry in `dir` (every file's size and checksum against the manifest). */
export async function readEntry<T>(dir: string, key: string): Promise<EntryState<T>> {
  try {
    await stat(dir);
  } catch {
    return { state: 'missing' };
  }
  const checked = await checkEntry<T>(dir, key);
  return typeof checked === 'string'
    ? { state: 'corrupt', reason: checked }
    : { state: 'valid', manifest: checked };
}

/** Creates a directory or throws SwapLessIoError naming it (used for the cache root: it must be writable). */
export async function ensureDir(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new SwapLessIoError(
      `${expected(`a writable directory for ${what}`, 'the cache location', dir)} (${(err as Error).message})`,
      { cause: err, details: { path: dir } },
    );
  }
}

/** A fresh, empty sibling directory of `dir` to build an entry in. */
export async function stagingDir(dir: string): Promise<string> {
  const staging = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await ensureDir(staging, 'a cache entry being built');
  return staging;
}

/**
 * Writes the manifest of a staged entry (checksums of `files`, all relative to `staging`) and renames the
 * staged directory to `dir`. When another writer got there first with a valid entry, that one wins and ours
 * is discarded; a corrupt one in the way is replaced.
 */
export async function commitEntry<T>(
  staging: string,
  dir: string,
  key: string,
  keyMaterial: unknown,
  files: readonly string[],
  data: T,
): Promise<void> {
  const manifest: Manifest<T> = { schema: STORE_SCHEMA, key, keyMaterial, files: {}, data };
  for (const name of files) {
    const bytes = await readFile(join(staging, name));
    manifest.files[name] = { bytes: bytes.length, sha256: sha256(bytes) };
  }
  await writeFileAtomic(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(staging, dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt >= 2) {
        await rm(staging, { recursive: true, force: true });
        throw new SwapLessIoError(
          `${expected('a cache entry that can be moved into place', 'compiled variants', dir)} (${(err as Error).message})`,
          { cause: err, details: { path: dir } },
        );
      }
      const existing = await readEntry<T>(dir, key);
      if (existing.state === 'valid') {
        await rm(staging, { recursive: true, force: true });
        return;
      }
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/** Removes a corrupt entry so it can be rebuilt. */
export async function discardEntry(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    throw new SwapLessIoError(
      `${expected('a removable corrupt cache entry', 'compiled variants', dir)} (${(err as Error).message})`,
      { cause: err, details: { path: dir } },
    );
  }
}
