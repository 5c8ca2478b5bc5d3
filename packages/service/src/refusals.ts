// Per-tick refusal counts for the series: the runtime keeps cumulative per-tenant counters of requests refused at
// admission (503) and dropped on their deadline (504); a tick reports what changed since the previous tick.
import type { TenantStats } from '@swapless/runtime';

/** Requests a tenant lost during one tick window. */
export interface TickRefusals {
  /** Refused at admission (queue full, deadline out of reach, shutting down): HTTP 503. */
  rejected: number;
  /** Admitted, then dropped before they ran because they could no longer finish by their deadline: HTTP 504. */
  expired: number;
}

/**
 * Turns the runtime's cumulative counters into per-window deltas. Tenants absent from a call are forgotten, and a
 * counter that went down (a tenant removed and added again under the same name between two ticks) counts from 0.
 */
export class RefusalWindows {
  #last = new Map<string, TickRefusals>();

  /** Refusals of every tenant in `tenants` since the previous call. */
  take(tenants: Readonly<Record<string, TenantStats>>): Map<string, TickRefusals> {
    const now = new Map<string, TickRefusals>();
    const deltas = new Map<string, TickRefusals>();
    for (const [name, st] of Object.entries(tenants)) {
      const total = {
        rejected: st.rejected.overloaded + st.rejected.shuttingDown + st.rejected.shed,
        expired: st.expired,
      };
      const prev = this.#last.get(name);
      deltas.set(name, {
        rejected: since(total.rejected, prev?.rejected),
        expired: since(total.expired, prev?.expired),
      });
      now.set(name, total);
    }
    this.#last = now;
    return deltas;
  }
}

function since(total: number, previous: number | undefined): number {
  return previous === undefined || total < previous ? total : total - previous;
}
