/**
 * The on-disk cache shared by the generators and measurers (zoo models, profiles, compiled variants):
 * where it lives and how entries are written so a crash or a concurrent writer never leaves a torn file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
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

/** Options of {@link writeFileAtomic}. */
export interface WriteFileAtomicOptions {
  /**
   * Also survive a power loss or a kernel crash, not only a crash of the process: the temporary file is flushed to
   * the disk (fsync) before the rename, and the directory after it, so once the promise resolves the new content
   * is on the disk under its name. Costs two disk flushes; meant for state that cannot be rebuilt (default false:
   * caches, which can).
   */
  durable?: boolean;
}

/**
 * Writes `data` to `path` through a temporary file in the same directory (`<path>.<pid>.<random>.tmp`) and a rename,
 * so readers see the old file or the whole new one, never a partial one. Creates missing directories.
 * SwapLessIoError on failure, with the system's error code (`ENOSPC`, `EACCES`…) in `details.errno`.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    if (options.durable === true) {
      const file = await open(tmp, 'wx');
      try {
        await file.writeFile(data);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
      // The rename is an update of the directory: flush it too, or it may be lost with the power.
      const dir = await open(dirname(path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } else {
      await writeFile(tmp, data);
      await rename(tmp, path);
    }
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    const errno = (err as NodeJS.ErrnoException).code;
    throw new SwapLessIoError(
      `Expected a writable location for ${path} but writing failed: ${(err as Error).message}`,
      { cause: err, details: { path, ...(typeof errno === 'string' ? { errno } : {}) } },
    );
  }
}
