// The vetting process's watchdog ends it when its parent is gone or past its deadline, even while the main thread is
// stuck (here a busy loop stands in for an endless invoke inside TFLite). A parent killed by a signal runs no exit
// handler, so without the watchdog these processes would run for ever: every one is killed in afterAll regardless.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WATCHDOG_SOURCE } from './vet-watchdog.js';

const CHILD_SCRIPT = fileURLToPath(new URL('../dist/vet-child.js', import.meta.url));
const leftovers: number[] = [];
const open: ChildProcess[] = [];

afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: what the tests want.
    }
  }
  for (const c of open) c.stdin?.destroy();
});

/** True while `pid` runs (a zombie — dead, not yet reaped by its new parent — does not count). */
function running(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A program that starts the watchdog with `data` (an object literal) and then never returns to its event loop. */
function blockedProgram(data: string): string {
  return `
    const { Worker } = require('node:worker_threads');
    const data = ${data};
    new Worker(${JSON.stringify(WATCHDOG_SOURCE)}, { eval: true, workerData: data }).unref();
    process.stdout.write('started\\n');
    for (;;) {}`;
}

/**
 * Starts node with `args` (`PARENT_PID` in them replaced by the pid of its parent) through a middle process that
 * prints the child's pid and then kills itself by SIGKILL, as a server killed by a signal dies. Resolves with the
 * orphan's pid once the middle one is dead. `stdin` is the middle one's (and so an inheriting orphan's) stdin.
 */
async function orphan(args: string[], stdio: string, stdin: Readable | 'pipe' = 'pipe'): Promise<number> {
  const middle = spawn(
    process.execPath,
    [
      '-e',
      `const args = ${JSON.stringify(args)}.map((a) => a.replaceAll('PARENT_PID', String(process.pid)));
       const c = require('node:child_process').spawn(process.execPath, args, { stdio: ${stdio} });
       process.stdout.write(c.pid + '\\n');
       setTimeout(() => process.kill(process.pid, 'SIGKILL'), 300);`,
    ],
    { stdio: [stdin, 'pipe', 'inherit'] },
  );
  open.push(middle);
  let out = '';
  middle.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    middle.once('close', (_c, s) => resolve(s)),
  );
  expect(signal).toBe('SIGKILL');
  const pid = Number(out.trim());
  expect(Number.isInteger(pid) && pid > 0).toBe(true);
  leftovers.push(pid);
  return pid;
}

/** Runs node with `args` (fd 3 a pipe) until it ends: its signal and what it said on fd 3. */
async function runToEnd(
  args: string[],
  stdin: 'pipe' | 'ignore',
): Promise<{ signal: NodeJS.Signals | null; said: string }> {
  const child = spawn(process.execPath, args, { stdio: [stdin, 'ignore', 'inherit', 'pipe'] });
  open.push(child);
  leftovers.push(child.pid!);
  let said = '';
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (d: string) => {
    said += d;
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('close', (_c, s) => resolve(s)),
  );
  return { signal, said };
}

describe('the watchdog thread', () => {
  it('kills its process when the parent is gone, though the main thread never yields', async () => {
    const pid = await orphan(
      ['-e', blockedProgram('{ parentPid: PARENT_PID, deadline: Infinity, resultFd: null, pollMs: 50 }')],
      "'pipe'",
    );
    await vi.waitFor(() => expect(running(pid)).toBe(false), { timeout: 15_000, interval: 50 });
  });

  it('kills its process past the deadline, saying so first on the result descriptor', async () => {
    const { signal, said } = await runToEnd(
      [
        '-e',
        blockedProgram('{ parentPid: process.ppid, deadline: Date.now() + 200, resultFd: 3, pollMs: 50 }'),
      ],
      'ignore',
    );
    expect(signal).toBe('SIGKILL');
    expect(JSON.parse(said)).toEqual({ kind: 'deadline' });
  });
});

describe('the real vetting process (dist/vet-child.js) runs the watchdog', () => {
  const job = (deadlineMs: number, parentPid?: string) =>
    `{"configurations":[{}],"seed":1,"deadlineMs":${deadlineMs}${parentPid === undefined ? '' : `,"parentPid":${parentPid}`}}`;

  it('dies with its parent while it still waits for the model', async () => {
    // Its stdin is a pipe whose writer is a third process that outlives the parent: the model never arrives, and no
    // end of input lets the child finish on its own.
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    open.push(holder);
    leftovers.push(holder.pid!);
    const pid = await orphan(
      [CHILD_SCRIPT, job(600_000, 'PARENT_PID')],
      "['inherit', 'ignore', 'inherit', 'pipe']",
      holder.stdout,
    );
    await vi.waitFor(() => expect(running(pid)).toBe(false), { timeout: 15_000, interval: 50 });
  });

  it('ends itself at the deadline of its job', async () => {
    // stdin is held open by this process: the model never arrives.
    const { signal, said } = await runToEnd([CHILD_SCRIPT, job(200)], 'pipe');
    expect(signal).toBe('SIGKILL');
    expect(
      said
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ kind: 'deadline' }]);
  });
});
