// The fixed-seed sample of `npm run bench:overload`: the real bench script, briefly (1 s closed loops, 3 s of
// overload at twice the measured rate), with the built server in a child process. It checks what must hold on any
// machine — every request answered, only 200/503/504, no other 5xx, the log small, the scrapes answered — and
// leaves the speed targets (goodput, latencies) to the bench itself.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');

interface BenchReport {
  sustainable: { okPerS: number };
  overload: {
    sent: number;
    statuses: Record<string, number>;
    other5xx: number;
    networkErrors: Record<string, number>;
    goodputPerS: number;
    logBytes: number;
    scrapes: Record<string, { count: number; failed: number }>;
  };
  serverExit: { code: number | null; signal: string | null };
}

describe('bench:overload, fixed-seed sample', () => {
  it('answers every request of an open loop at twice the sustainable rate with 200, 503 or 504 only', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        join(root, 'bench', 'overload-bench.mjs'),
        '--duration',
        '3',
        '--measure',
        '1',
        '--seed',
        '7',
        '--json',
      ],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
    );
    const report = JSON.parse(stdout) as BenchReport;
    expect(report.serverExit).toEqual({ code: 0, signal: null });
    expect(report.sustainable.okPerS).toBeGreaterThan(0);
    const o = report.overload;
    expect(o.sent).toBeGreaterThan(0);
    expect(Object.keys(o.statuses).every((s) => s === '200' || s === '503' || s === '504')).toBe(true);
    expect(Object.values(o.statuses).reduce((a, b) => a + b, 0)).toBe(o.sent);
    expect(o.statuses['200']).toBeGreaterThan(0);
    // At twice the rate the device can serve, some requests must have been refused.
    expect((o.statuses['503'] ?? 0) + (o.statuses['504'] ?? 0)).toBeGreaterThan(0);
    expect(o.other5xx).toBe(0);
    expect(o.networkErrors).toEqual({});
    expect(o.logBytes).toBeLessThan(1_000_000);
    for (const [path, s] of Object.entries(o.scrapes)) {
      expect(s.count, path).toBeGreaterThanOrEqual(2);
      expect(s.failed, path).toBe(0);
    }
  }, 300_000);
});
