/**
 * Runs an external program with a timeout of our own. The program gets its own process group, so a timeout
 * kills it and everything it started (`edgetpu_compiler` compiles in a child process of its own).
 */
import { spawn } from 'node:child_process';

/** What a finished (or killed) run produced. */
export interface ProcessResult {
  /** Exit status, or null when the process ended by a signal. */
  exitCode: number | null;
  /** Signal that ended the process, or null. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when we killed the process group because the timeout elapsed. */
  timedOut: boolean;
  /** Set when the program could not be started (ENOENT, EACCES…). */
  spawnError?: Error;
}

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  /** Working directory of the program. */
  cwd?: string;
  /** Milliseconds before the process group is killed (SIGKILL). */
  timeoutMs: number;
  /** Extra environment variables (merged over the current environment). */
  env?: Record<string, string>;
}

/** Most bytes of each stream kept in memory; a chatty program cannot exhaust the heap. */
const MAX_CAPTURE = 4 * 1024 * 1024;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    // Negative pid: the whole process group the detached child leads.
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Runs `file args…` without a shell, captures stdout and stderr (UTF-8, first 4 MiB each), and kills the
 * process group after `timeoutMs`. Never rejects: spawn failures and timeouts are reported in the result.
 */
export function runProcess(
  file: string,
  args: readonly string[],
  options: RunProcessOptions,
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    let spawnError: Error | undefined;
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk;
    });
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < MAX_CAPTURE) stderr += chunk;
    });
    let exited: [number | null, NodeJS.Signals | null] | undefined;
    child.on('exit', (code, signal) => {
      exited = [code, signal];
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      // A descendant that left our process group could keep the pipes open: do not wait for it forever.
      setTimeout(() => finish(exited?.[0] ?? null, exited?.[1] ?? 'SIGKILL'), 2000).unref();
    }, options.timeoutMs);
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result: ProcessResult = { exitCode, signal, stdout, stderr, timedOut };
      if (spawnError !== undefined) result.spawnError = spawnError;
      resolve(result);
    };
    child.on('error', (err) => {
      spawnError = err;
      // A process that never started emits no 'close' in some Node versions: settle here.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', (code, signal) => {
      // Grandchildren that outlived their parent still hold nothing of ours once the pipes closed, but a
      // compiler that exited on its own may leave its worker behind: clean the group up either way.
      if (!timedOut && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 0);
          killGroup(child.pid);
        } catch {
          // The group is empty.
        }
      }
      finish(code, signal);
    });
  });
}
