import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EMULATION_LOG_INTERVAL_MS, EmulationLog } from './emulation-log.js';

function capture() {
  const lines: { level: number; msg: string; emulation?: Record<string, number> }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

const lagging = {
  lagging: true,
  laggingFraction: 0.4,
  meanLagMs: 12.5,
  meanComputeMs: 15,
  message: 'The host computes the heads slower than the device.',
};

describe('EmulationLog', () => {
  it('writes one warn line per minute at most while lagging, and none otherwise', async () => {
    const { lines, logger } = capture();
    const log = new EmulationLog(logger);
    expect(log.check(null, 0)).toBe(false);
    expect(log.check({ ...lagging, lagging: false, message: null }, 0)).toBe(false);
    expect(log.check(lagging, 1_000)).toBe(true);
    // Every tick for the next minute: silent.
    for (let t = 2_000; t < 1_000 + EMULATION_LOG_INTERVAL_MS; t += 1_000)
      expect(log.check(lagging, t)).toBe(false);
    expect(log.check(lagging, 1_000 + EMULATION_LOG_INTERVAL_MS)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      msg: lagging.message,
      emulation: { laggingFraction: 0.4, meanLagMs: 12.5, meanComputeMs: 15 },
    });
  });
});
