/**
 * The on-disk cache shared by the generators and measurers (zoo models, profiles, compiled variants):
 * where it lives and how entries are written so a crash or a concurrent writer never leaves a torn file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SwapLessIoError } from './errors.js';

/** Environment variable that moves the cache (e.g. to a larger disk, or a temp dir in tests). */
export const CACHE_DIR_ENV = 'SWAPLESS_CACHE_DIR';

/**
 * The cache root: `$SWAPLESS_CACHE_DIR`, else `$XDG_CACHE_HOME/swapless`, else `~/.cache/swapless`, with an
 * optional sub-directory per kind of entry (`zoo`, `profiles`, …).
 */
export function cacheDir(sub?: string): string {
  const env = process.env[CACHE_DIR_ENV];
  const root =
    env !== undefined && env !== ''
      ? env
      : join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'swapless');
  return sub === undefined ? root : join(root, sub);
}

/**
 * Writes `data` to `path` through a temporary file in the same directory and a rename, so readers see the
 * old file or the whole new one, never a partial one. Creates missing directories. SwapLessIoError on failure.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new SwapLessIoError(
      `Expected a writable location for ${path} but writing failed: ${(err as Error).message}`,
      { cause: err, details: { path } },
    );
  }
}
