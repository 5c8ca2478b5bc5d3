/**
 * The one place where what the live runtime measures becomes what a latency model's `fit()` takes. The plugin
 * API declares per-tenant window means (`FitObservation` of `@swapless/contracts`); the runtime keeps per-request
 * samples (`TenantObservation` of `@swapless/runtime`). Per tenant and cut point seen in the window:
 *
 * | `FitObservation` field | from the runtime's window                                                           |
 * | ------------------- | ------------------------------------------------------------------------------------ |
 * | `tenant`, `k`       | the tenant; the cut of its samples (a window that spans a reconfiguration gives one observation per cut) |
 * | `cores`             | the cores of its CPU samples at that cut, else the cores it runs with now             |
 * | `rate`              | admitted requests of the tenant over the window, per second (every cut alike)         |
 * | `count`             | the samples at that cut (Edge TPU calls, else CPU stage runs)                         |
 * | `tpuServiceMs`      | mean device time of its Edge TPU calls (reloads included)                             |
 * | `reloadFraction`    | share of those calls that paid a reload (the device held another caching token)      |
 * | `cpuServiceMs`      | mean CPU stage compute time                                                           |
 * | `responseMs`        | mean end-to-end latency, only when the whole window ran at one cut                    |
 *
 * Queue waits (`tpuWaitMs`, `cpuWaitMs`) are not recorded per request by the runtime and are left out (the API
 * declares them optional).
 */
import type { FitObservation } from '@swapless/contracts';
import type { RuntimeObservation } from '@swapless/runtime';

interface Group {
  k: number;
  tpu: number;
  tpuSum: number;
  reloads: number;
  cpu: number;
  cpuSum: number;
  cores: number | null;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * The runtime's window as `fit()` observations (see the table above), in tenant order, then cut order.
 * @param rates Admitted requests per second of each tenant over the window.
 * @param coresNow The cores each tenant runs with now (for cuts without CPU samples).
 */
export function fitObservations(
  window: RuntimeObservation,
  rates: ReadonlyMap<string, number>,
  coresNow: (tenant: string) => number,
): FitObservation[] {
  const out: FitObservation[] = [];
  for (const [tenant, o] of Object.entries(window.tenants)) {
    const groups = new Map<number, Group>();
    const group = (k: number): Group => {
      let g = groups.get(k);
      if (g === undefined) {
        g = { k, tpu: 0, tpuSum: 0, reloads: 0, cpu: 0, cpuSum: 0, cores: null };
        groups.set(k, g);
      }
      return g;
    };
    o.tpuServiceMs.forEach((ms, i) => {
      const g = group(o.tpuAt[i]!);
      g.tpu++;
      g.tpuSum += ms;
      if (o.tpuReload[i] === true) g.reloads++;
    });
    o.cpuServiceMs.forEach((ms, i) => {
      const at = o.cpuAt[i]!;
      const g = group(at.k);
      g.cpu++;
      g.cpuSum += ms;
      g.cores = at.cores;
    });
    for (const g of [...groups.values()].sort((a, b) => a.k - b.k)) {
      const obs: FitObservation = {
        tenant,
        k: g.k,
        cores: g.cores ?? coresNow(tenant),
        rate: rates.get(tenant) ?? 0,
        count: Math.max(g.tpu, g.cpu),
      };
      if (g.tpu > 0) {
        obs.tpuServiceMs = g.tpuSum / g.tpu;
        obs.reloadFraction = g.reloads / g.tpu;
      }
      if (g.cpu > 0) obs.cpuServiceMs = g.cpuSum / g.cpu;
      if (groups.size === 1 && o.latencyMs.length > 0) obs.responseMs = mean(o.latencyMs);
      out.push(obs);
    }
  }
  return out;
}
