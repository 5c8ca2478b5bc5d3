// Vitest global setup shared by every package: one private temporary directory per test run, handed to the
// test processes as TMPDIR (so every os.tmpdir()/mkdtemp in tests lands inside it) and deleted when the run
// ends, so repeated test runs (CI on a long-lived machine) leave nothing behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'swapless-test-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
