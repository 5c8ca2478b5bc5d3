import type { TenantStats } from '@swapless/runtime';
import { describe, expect, it } from 'vitest';
import { RefusalWindows } from './refusals.js';

/** The counters RefusalWindows reads; the rest of TenantStats is irrelevant to it. */
function stats(overloaded: number, shuttingDown: number, expired: number, shed = 0): TenantStats {
  return { rejected: { overloaded, shuttingDown, shed }, expired } as TenantStats;
}

describe('RefusalWindows', () => {
  it('reports what each tenant lost since the previous tick, 503s and 504s apart', () => {
    const w = new RefusalWindows();
    expect(Object.fromEntries(w.take({ a: stats(2, 0, 1), b: stats(0, 0, 0) }))).toEqual({
      a: { rejected: 2, expired: 1 },
      b: { rejected: 0, expired: 0 },
    });
    expect(Object.fromEntries(w.take({ a: stats(5, 1, 1), b: stats(0, 0, 3) }))).toEqual({
      a: { rejected: 4, expired: 0 },
      b: { rejected: 0, expired: 3 },
    });
    expect(Object.fromEntries(w.take({ a: stats(5, 1, 1), b: stats(0, 0, 3) }))).toEqual({
      a: { rejected: 0, expired: 0 },
      b: { rejected: 0, expired: 0 },
    });
    // Requests shed by admission control are 503s too.
    expect(Object.fromEntries(w.take({ a: stats(5, 1, 1, 6), b: stats(0, 0, 3) }))).toEqual({
      a: { rejected: 6, expired: 0 },
      b: { rejected: 0, expired: 0 },
    });
  });

  it('forgets removed tenants and counts a re-added one from zero', () => {
    const w = new RefusalWindows();
    w.take({ a: stats(10, 0, 4), b: stats(7, 0, 0) });
    // b removed: absent from the tick; a removed and re-added between ticks: its counters restarted.
    expect(Object.fromEntries(w.take({ a: stats(1, 0, 0) }))).toEqual({ a: { rejected: 1, expired: 0 } });
    // b comes back with fresh counters: all of them are this window's.
    expect(w.take({ a: stats(1, 0, 0), b: stats(2, 0, 0) }).get('b')).toEqual({ rejected: 2, expired: 0 });
  });
});
