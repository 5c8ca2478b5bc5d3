// Real files in a temporary directory: links out of the root at every level, FIFOs, sockets, devices, directories
// and a 1 GiB sparse file, each refused by its type, place or size before anything is read.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadline,
  inspectConfinedFile,
  readAll,
  readConfinedFile,
  resolveConfined,
} from './confined-file.js';
import { ErrorCodes, ForbiddenPathError, InvalidArgumentError, SwapLessIoError } from './errors.js';

const MIB = 1024 * 1024;
const opts = { maxBytes: MIB, timeoutMs: 5000 };
let base: string;
let root: string;
let outside: string;
let socket: Server;

/** Bytes this process has read through read(2) and friends so far (Linux's per-process I/O accounting). */
async function bytesReadSoFar(): Promise<number> {
  const io = await readFile('/proc/self/io', 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)![1]);
}

async function refusal(file: string, options = opts): Promise<ForbiddenPathError> {
  const err = await readConfinedFile(root, file, options).catch((e: unknown) => e);
  expect(err, file).toBeInstanceOf(ForbiddenPathError);
  const e = err as ForbiddenPathError;
  expect(e.code).toBe(ErrorCodes.FORBIDDEN_PATH);
  // The message names the file as given, never the root, the target of a link or any other host path.
  expect(e.message).toContain(file);
  expect(e.message).not.toContain(base);
  expect(e.message).not.toMatch(/\/etc|\/proc|\/dev|root:|PATH=/);
  return e;
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'swapless-confined-'));
  root = join(base, 'repo');
  outside = join(base, 'outside');
  await mkdir(join(root, 'm'), { recursive: true });
  await mkdir(join(outside, 'dir'), { recursive: true });
  await writeFile(join(root, 'm', 'config.json'), '{"rate": 5}');
  await writeFile(join(outside, 'secret.json'), '{"secret": true}');
  await writeFile(join(outside, 'dir', 'config.json'), '{"secret": true}');
  // Links to host files, out of the root.
  await symlink('/etc/passwd', join(root, 'm', 'passwd.json'));
  await symlink('/proc/self/environ', join(root, 'm', 'environ.json'));
  await symlink('/dev/zero', join(root, 'm', 'zero.tflite'));
  await symlink(join(outside, 'secret.json'), join(root, 'm', 'absolute.json'));
  await symlink('../../outside/secret.json', join(root, 'm', 'relative.json'));
  // A folder that is itself a link outside; a chain that leaves and comes back; one that comes back then leaves.
  await symlink(join(outside, 'dir'), join(root, 'linked-dir'));
  await symlink(join(root, 'm', 'config.json'), join(outside, 'back.json'));
  await symlink(join(outside, 'back.json'), join(root, 'm', 'there-and-back.json'));
  await symlink(join(outside, 'secret.json'), join(root, 'm', 'inner-out.json'));
  await symlink(join(root, 'm', 'inner-out.json'), join(root, 'm', 'chain-out.json'));
  // Links that stay inside: absolute, relative, and a folder alias.
  await symlink(join(root, 'm', 'config.json'), join(root, 'm', 'alias.json'));
  await symlink('../m/config.json', join(root, 'm', 'rel-alias.json'));
  await symlink(join(root, 'm'), join(root, 'alias-dir'));
  await symlink(join(root, 'm', 'loop-b'), join(root, 'm', 'loop-a'));
  await symlink(join(root, 'm', 'loop-a'), join(root, 'm', 'loop-b'));
  await symlink(join(root, 'm', 'nowhere'), join(root, 'm', 'dangling.json'));
  // Things that are not regular files.
  execFileSync('mkfifo', [join(root, 'm', 'fifo.json')]);
  await mkdir(join(root, 'm', 'model.tflite'));
  socket = createServer();
  await new Promise<void>((resolve) => socket.listen(join(root, 'm', 'socket.json'), resolve));
  // A 1 GiB sparse file: no disk used, and reading it would take seconds and a GiB of memory.
  await writeFile(join(root, 'm', 'huge.tflite'), '');
  await truncate(join(root, 'm', 'huge.tflite'), 1024 * MIB);
});

afterAll(async () => {
  await new Promise((resolve) => socket?.close(resolve));
  await rm(base, { recursive: true, force: true });
});

describe('readConfinedFile', () => {
  it('reads a regular file inside the root, and through links that stay inside', async () => {
    for (const file of ['m/config.json', 'm/alias.json', 'm/rel-alias.json', 'alias-dir/config.json']) {
      const r = await readConfinedFile(root, file, opts);
      expect(new TextDecoder().decode(r.bytes), file).toBe('{"rate": 5}');
      expect(r.path, file).toBe(join(root, 'm', 'config.json'));
    }
  });

  it('accepts a root that is itself a link (the root is compared by its real path)', async () => {
    const linkedRoot = join(base, 'root-link');
    await symlink(root, linkedRoot);
    const r = await readConfinedFile(linkedRoot, 'm/config.json', opts);
    expect(r.bytes.byteLength).toBe(11);
  });

  it('refuses links to host files: /etc/passwd, /proc/self/environ, /dev/zero', async () => {
    for (const file of ['m/passwd.json', 'm/environ.json', 'm/zero.tflite']) {
      expect((await refusal(file)).details.reason, file).toBe('outside-root');
    }
  });

  it('refuses links out of the root at every level', async () => {
    for (const file of [
      'm/absolute.json', // the file is a link outside
      'm/relative.json', // a relative ../ link outside
      'linked-dir/config.json', // the folder is a link outside
      'm/chain-out.json', // a link to a link inside that leads outside
    ]) {
      expect((await refusal(file)).details.reason, file).toBe('outside-root');
    }
  });

  it('judges a chain by where it ends: one that leaves and comes back inside is the inside file', async () => {
    const r = await readConfinedFile(root, 'm/there-and-back.json', opts);
    expect(r.path).toBe(join(root, 'm', 'config.json'));
  });

  it('refuses a FIFO, a socket and a directory by type without opening them', async () => {
    // Opening the FIFO to read would wait for a writer that never comes: the test would time out.
    expect(await refusal('m/fifo.json')).toMatchObject({ details: { reason: 'not-a-file' } });
    expect((await refusal('m/fifo.json')).message).toMatch(/is a FIFO/);
    expect((await refusal('m/socket.json')).message).toMatch(/is a socket/);
    expect((await refusal('m/model.tflite')).message).toMatch(/is a directory/);
  });

  it('refuses a 1 GiB sparse file by its size without reading it', async () => {
    const before = await bytesReadSoFar();
    const e = await refusal('m/huge.tflite', { maxBytes: 256 * MIB, timeoutMs: 5000 });
    const read = (await bytesReadSoFar()) - before;
    expect(e.details.reason).toBe('too-large');
    expect(e.message).toMatch(/at most 268435456 bytes but it is 1073741824 bytes/);
    // Reading /proc/self/io itself and the test's own bookkeeping are a few KiB; the file is a GiB.
    expect(read).toBeLessThan(MIB);
  });

  it('refuses a file one byte over the cap and accepts one at the cap', async () => {
    expect((await refusal('m/config.json', { maxBytes: 10, timeoutMs: 5000 })).details.reason).toBe(
      'too-large',
    );
    expect((await readConfinedFile(root, 'm/config.json', { maxBytes: 11 })).bytes.byteLength).toBe(11);
  });

  it('refuses dangling and looping links as unresolvable', async () => {
    expect((await refusal('m/dangling.json')).details.reason).toBe('unresolvable');
    expect((await refusal('m/loop-a')).details.reason).toBe('unresolvable');
    expect((await refusal('m/nosuch.json')).details.reason).toBe('unresolvable');
  });

  it('reports an unreadable root as an I/O error without its path', async () => {
    const err = await readConfinedFile(join(base, 'no-root'), 'm/config.json', opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SwapLessIoError);
    expect((err as Error).message).not.toContain(base);
  });

  it('refuses names that are not plain relative paths before touching the disk', async () => {
    for (const bad of [
      '',
      '/etc/passwd',
      '../outside/secret.json',
      'm/../../x',
      'm//config.json',
      'a\0b',
      42,
    ]) {
      await expect(readConfinedFile(root, bad as string, opts), String(bad)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    await expect(readConfinedFile(root, 'm/config.json', { maxBytes: -1 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      readConfinedFile(root, 'm/config.json', { maxBytes: 1, timeoutMs: 0 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('inspectConfinedFile and resolveConfined', () => {
  it('apply the same checks without reading, and resolve folders', async () => {
    const info = await inspectConfinedFile(root, 'alias-dir/config.json', opts);
    expect(info.path).toBe(join(root, 'm', 'config.json'));
    expect(info.stats.size).toBe(11);
    await expect(inspectConfinedFile(root, 'm/fifo.json', opts)).rejects.toMatchObject({
      details: { reason: 'not-a-file' },
    });
    await expect(inspectConfinedFile(root, 'm/huge.tflite', opts)).rejects.toMatchObject({
      details: { reason: 'too-large' },
    });
    expect((await resolveConfined(root, 'alias-dir')).stats.isDirectory()).toBe(true);
    await expect(resolveConfined(root, 'linked-dir')).rejects.toMatchObject({
      code: ErrorCodes.FORBIDDEN_PATH,
      details: { reason: 'outside-root' },
    });
  });
});

describe('the read deadline', () => {
  it('ends a read that blocks (a FIFO opened for writing too never reaches its end) with a timeout', async () => {
    // The confined read never opens a FIFO; this drives its read loop on one directly to show that a read that
    // blocks in the thread pool cannot hold the caller past the deadline.
    const fifo = join(base, 'blocking-fifo');
    execFileSync('mkfifo', [fifo]);
    const handle = await open(fifo, 'r+');
    const d = deadline(200, () => new SwapLessIoError('timed out', { details: { reason: 'timeout' } }));
    try {
      const err = await readAll(handle, 0, MIB, 'blocking-fifo', d).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SwapLessIoError);
      expect((err as SwapLessIoError).details.reason).toBe('timeout');
      expect(d.expired).toBe(true);
    } finally {
      d.clear();
      // Unblock the thread-pool read so the handle can close.
      const writer = await open(fifo, 'w');
      await writer.write('x');
      await writer.close();
      await handle.close();
    }
  });
});
