/**
 * Files that must stay inside a root directory (a model repository): the one way SwapLess reads them. A file is
 * named relative to the root and resolved with realpath, every link followed, and must land inside the root's
 * realpath; it must be a regular file — a FIFO, a socket, a device or a directory is refused by its type before
 * anything opens it, so nothing can block on it — no larger than a cap, checked on its size before a byte is read;
 * and the whole read (resolve, check, open, read) has a deadline. The file is then opened non-blocking and without
 * following a final link, and what was opened is checked again (inside the root, the same file, still regular and
 * under the cap), so a file swapped for a link or a FIFO between the check and the open is refused too.
 *
 * Messages name the file as given, relative to the root — never the root, a host path or where a link leads —
 * because they reach HTTP clients; host paths are in `details` and in the `cause`, for logs.
 */
import type { Stats } from 'node:fs';
import { constants } from 'node:fs';
import { type FileHandle, open, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { expected } from './describe.js';
import { ForbiddenPathError, InvalidArgumentError, SwapLessIoError } from './errors.js';

/** Default deadline of one confined read (resolve, check, open, read), ms. */
export const DEFAULT_CONFINED_READ_TIMEOUT_MS = 30_000;

/** `details.reason` of a {@link ForbiddenPathError}. */
export type ForbiddenPathReason = 'outside-root' | 'not-a-file' | 'too-large' | 'unresolvable';

/** Options of {@link readConfinedFile} and {@link inspectConfinedFile}. */
export interface ConfinedFileOptions {
  /** Largest size accepted, bytes. */
  maxBytes: number;
  /** Deadline of the whole call, ms (default {@link DEFAULT_CONFINED_READ_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** Options of {@link resolveConfined}. */
export interface ConfinedPathOptions {
  /** Deadline of the call, ms (default {@link DEFAULT_CONFINED_READ_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** A path inside the root, resolved. */
export interface ConfinedPath {
  /** Its real path (a host path: for logs and further reads, never for client messages). */
  path: string;
  /** `stat` of the real path. */
  stats: Stats;
}

/** Bytes of a file read for a root-relative name: its real path and what it held when it was read. */
export interface ConfinedFile extends ConfinedPath {
  bytes: Uint8Array;
}

/** Largest single read: the deadline is checked between reads. */
const CHUNK_BYTES = 4 * 1024 * 1024;
// O_NONBLOCK: opening a FIFO (swapped in after the check) cannot wait for a writer. O_NOFOLLOW: a final component
// swapped for a link after realpath fails to open. Both exist wherever SwapLess runs (Linux, macOS).
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** True when `child` is under `root` (both real, absolute; `root` itself is not under itself). */
function inside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** What a file is, for messages. */
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function forbidden(
  reason: ForbiddenPathReason,
  message: string,
  details: Record<string, unknown>,
  cause?: unknown,
): ForbiddenPathError {
  return new ForbiddenPathError(message, {
    ...(cause !== undefined ? { cause } : {}),
    details: { reason, ...details },
  });
}

/** The file was replaced between its check and its open: an I/O failure (the next attempt checks it afresh). */
function changed(file: string, path: string, cause?: unknown): SwapLessIoError {
  return new SwapLessIoError(
    `Expected ${file} in the repository to stay the same file while it was opened but it was replaced`,
    { ...(cause !== undefined ? { cause } : {}), details: { reason: 'changed', file, path } },
  );
}

/** A deadline shared by every step of one call; a step that loses the race is cleaned up when it settles. */
export interface Deadline {
  within<T>(step: Promise<T>, late?: (value: T) => void): Promise<T>;
  readonly expired: boolean;
  clear(): void;
}

/** A {@link Deadline} of `ms` that fails with `fail()` (internal; exported for the tests). */
export function deadline(ms: number, fail: () => Error): Deadline {
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(fail());
    }, ms);
  });
  timeout.catch(() => undefined);
  const abandon = <T>(step: Promise<T>, late?: (value: T) => void): void => {
    step.then(late, () => undefined);
  };
  return {
    get expired() {
      return expired;
    },
    async within<T>(step: Promise<T>, late?: (value: T) => void): Promise<T> {
      if (expired) {
        abandon(step, late);
        throw fail();
      }
      try {
        return await Promise.race([step, timeout]);
      } catch (error) {
        if (expired) abandon(step, late);
        throw error;
      }
    },
    clear: () => clearTimeout(timer),
  };
}

function checkRelative(file: unknown): string {
  if (
    typeof file !== 'string' ||
    file.length === 0 ||
    file.includes('\0') ||
    isAbsolute(file) ||
    file.split(/[\\/]/).some((part) => part === '..' || part === '')
  ) {
    throw new InvalidArgumentError(
      expected('a relative path without "..", empty or absolute parts', 'a file inside the root', file),
    );
  }
  return file;
}

function checkTimeout(timeoutMs: unknown): number {
  const ms = timeoutMs ?? DEFAULT_CONFINED_READ_TIMEOUT_MS;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0 || ms > 2 ** 31 - 1) {
    throw new InvalidArgumentError(expected('a number of milliseconds in (0, 2^31)', 'timeoutMs', timeoutMs));
  }
  return ms;
}

function checkMaxBytes(maxBytes: unknown): number {
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new InvalidArgumentError(expected('a byte count ≥ 0', 'maxBytes', maxBytes));
  }
  return maxBytes;
}

/** A failure of the file system, as a typed error whose message names only `file` and the errno code. */
function fsError(error: unknown, file: string, root: string): Error {
  if (error instanceof ForbiddenPathError || error instanceof SwapLessIoError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const details = { file, root };
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG') {
    const why = code === 'ELOOP' ? 'its links loop' : 'it does not exist';
    return forbidden(
      'unresolvable',
      `Expected ${file} to resolve to a file inside the repository but ${why} (${code})`,
      details,
      error,
    );
  }
  return new SwapLessIoError(
    `Expected ${file} in the repository to be readable but reading it failed (${code ?? 'unknown error'})`,
    { cause: error, details: { reason: 'io', ...details } },
  );
}

/** Runs `body` under one deadline and turns file-system errors into typed, path-free ones. */
async function confined<T>(
  root: string,
  file: string,
  timeoutMs: number,
  body: (d: Deadline) => Promise<T>,
): Promise<T> {
  const d = deadline(
    timeoutMs,
    () =>
      new SwapLessIoError(
        `Expected ${file} in the repository to be read within ${timeoutMs} ms but it was not (timed out)`,
        { details: { reason: 'timeout', file, root } },
      ),
  );
  try {
    return await body(d);
  } catch (error) {
    throw fsError(error, file, root);
  } finally {
    d.clear();
  }
}

async function resolveIn(
  root: string,
  file: string,
  d: Deadline,
): Promise<ConfinedPath & { rootReal: string }> {
  let rootReal: string;
  try {
    rootReal = await d.within(realpath(root));
  } catch (error) {
    if (d.expired) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new SwapLessIoError(`Expected a readable repository but resolving it failed (${code})`, {
      cause: error,
      details: { reason: 'io', file, root },
    });
  }
  const path = await d.within(realpath(join(rootReal, file)));
  if (!inside(rootReal, path)) {
    throw forbidden(
      'outside-root',
      `Expected ${file} to stay inside the repository but it resolves to a path outside it`,
      { file, root: rootReal, path },
    );
  }
  // `path` has no links left (realpath), so stat and lstat agree; nothing is opened yet.
  return { rootReal, path, stats: await d.within(stat(path)) };
}

function checkFile(file: string, path: string, stats: Stats, maxBytes: number): void {
  if (!stats.isFile()) {
    throw forbidden('not-a-file', `Expected ${file} to be a regular file but it is ${kindOf(stats)}`, {
      file,
      path,
    });
  }
  if (stats.size > maxBytes) {
    throw forbidden(
      'too-large',
      `Expected ${file} to be at most ${maxBytes} bytes but it is ${stats.size} bytes`,
      { file, path, size: stats.size, maxBytes },
    );
  }
}

/**
 * Resolves `file` (relative to `root`, links followed) and checks that it stays inside the root's real path. Any
 * kind of file (a folder too): for listings; read files with {@link readConfinedFile}.
 *
 * @throws ForbiddenPathError (`outside-root`, `unresolvable`); SwapLessIoError on a file-system failure or when
 *   the deadline passes (`details.reason` `timeout`); InvalidArgumentError for a `file` that is not a plain
 *   relative path.
 */
export async function resolveConfined(
  root: string,
  file: string,
  options: ConfinedPathOptions = {},
): Promise<ConfinedPath> {
  const rel = checkRelative(file);
  return confined(root, rel, checkTimeout(options.timeoutMs), async (d) => {
    const { path, stats } = await resolveIn(root, rel, d);
    return { path, stats };
  });
}

/**
 * {@link resolveConfined}, and the file must be a regular file of at most `maxBytes`: what
 * {@link readConfinedFile} checks before it opens anything (a cheap identity for caches: real path, size, mtime).
 *
 * @throws ForbiddenPathError (`outside-root`, `not-a-file`, `too-large`, `unresolvable`); SwapLessIoError on a
 *   file-system failure or a timeout.
 */
export async function inspectConfinedFile(
  root: string,
  file: string,
  options: ConfinedFileOptions,
): Promise<ConfinedPath> {
  return checkedFile(root, file, options, async ({ path, stats }) => ({ path, stats }));
}

/** Validates the arguments, resolves `file` and checks it is a regular file under the cap; then `body`. */
function checkedFile<T>(
  root: string,
  file: string,
  options: ConfinedFileOptions,
  body: (
    found: ConfinedPath & { rootReal: string; rel: string; maxBytes: number },
    d: Deadline,
  ) => Promise<T>,
): Promise<T> {
  const rel = checkRelative(file);
  const maxBytes = checkMaxBytes(options?.maxBytes);
  return confined(root, rel, checkTimeout(options.timeoutMs), async (d) => {
    const found = await resolveIn(root, rel, d);
    checkFile(rel, found.path, found.stats, maxBytes);
    return body({ ...found, rel, maxBytes }, d);
  });
}

/**
 * Reads an opened file to its end, never more than `maxBytes` (a file that grew past the cap is refused), each read
 * under the deadline (internal; exported for the tests).
 */
export async function readAll(
  handle: FileHandle,
  size: number,
  maxBytes: number,
  file: string,
  d: Deadline,
): Promise<Uint8Array> {
  // One byte more than expected: a file that grew since its size was read is noticed. Reads go from the current
  // position (a fresh handle starts at 0), not by offset, so the loop reads any kind of descriptor.
  let buf = Buffer.allocUnsafeSlow(Math.min(size, maxBytes) + 1);
  let total = 0;
  for (;;) {
    if (total === buf.length) {
      if (total > maxBytes) {
        throw forbidden(
          'too-large',
          `Expected ${file} to be at most ${maxBytes} bytes but it grew past that while being read`,
          { file, maxBytes },
        );
      }
      const bigger = Buffer.allocUnsafeSlow(Math.min(buf.length * 2, maxBytes + 1));
      buf.copy(bigger, 0, 0, total);
      buf = bigger;
    }
    const { bytesRead } = await d.within(
      handle.read(buf, total, Math.min(CHUNK_BYTES, buf.length - total), null),
    );
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, total);
}

/**
 * Reads `file`, a path relative to `root`: resolved with every link followed, it must stay inside the root's real
 * path, be a regular file (checked by type before it is opened: a FIFO, socket, device or directory is never
 * opened) of at most `maxBytes` (checked on its size before reading, and again while reading), and the whole read
 * must finish within `timeoutMs`. The file is opened non-blocking without following a final link, and the opened
 * file is checked again: still inside the root, the same file (device and inode) and regular.
 *
 * @throws ForbiddenPathError (`details.reason`: `outside-root`, `not-a-file`, `too-large`, `unresolvable`);
 *   SwapLessIoError when the file system fails, the file changed between the check and the open (`changed`), or the
 *   deadline passed (`timeout`); InvalidArgumentError for a `file` that is not a plain relative path. Messages name
 *   `file` only; `details` and `cause` hold host paths for logs.
 */
export async function readConfinedFile(
  root: string,
  file: string,
  options: ConfinedFileOptions,
): Promise<ConfinedFile> {
  return checkedFile(root, file, options, async ({ rootReal, path, stats, rel, maxBytes }, d) => {
    const handle = await d
      .within(open(path, OPEN_FLAGS), (late) => void late.close().catch(() => undefined))
      .catch((error: unknown) => {
        // realpath left no link in `path`: a final link now means the file was swapped since.
        if ((error as NodeJS.ErrnoException).code !== 'ELOOP') throw error;
        throw changed(rel, path, error);
      });
    try {
      // Where the opened descriptor really is (Linux): a folder on the way swapped for a link shows here.
      const opened = await d.within(readlink(`/proc/self/fd/${handle.fd}`)).catch((error: unknown) => {
        if (d.expired) throw error;
        return null;
      });
      if (opened !== null && !inside(rootReal, opened.replace(/ \(deleted\)$/, ''))) {
        throw forbidden(
          'outside-root',
          `Expected ${rel} to stay inside the repository but it was replaced by a path outside it`,
          { file: rel, root: rootReal, path: opened },
        );
      }
      const now = await d.within(handle.stat());
      if (now.dev !== stats.dev || now.ino !== stats.ino) throw changed(rel, path);
      checkFile(rel, path, now, maxBytes);
      return { path, stats: now, bytes: await readAll(handle, now.size, maxBytes, rel, d) };
    } finally {
      // A read still running after the deadline holds the handle: close it when that read ends, without waiting.
      if (d.expired) void handle.close().catch(() => undefined);
      else await handle.close();
    }
  });
}
