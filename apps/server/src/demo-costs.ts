/**
 * What the served tenants cost on this host, for the demo load (demo-load.ts): the model compute of a request from
 * the profile the service measured when the tenant was added, the main thread's decoding of a JSON request timed
 * here and now, the Edge TPU's time from the device model — and the parallelism of the host.
 */
import { availableParallelism } from 'node:os';
import type { Service } from '@swapless/service';
import type { DemoHost, DemoLoad, DemoTenantCost } from './demo-load.js';
import { chooseDemoLoad, planDemoStep } from './demo-step.js';
import { exampleRequest } from './examples.js';

type Catalog = ReturnType<Service['catalog']>;

function mean(samples: readonly number[] | undefined): number {
  if (samples === undefined || samples.length === 0) return 0;
  let s = 0;
  for (const v of samples) s += v;
  return s / samples.length;
}

/**
 * CPU time of one request's model compute at one thread whatever the cut: the largest prefix + suffix over the
 * profiled cuts (a split costs a little more than the whole model). 0 for a compiled tenant (no CPU part).
 */
export function hostMsOf(catalog: Catalog): number {
  const profile = catalog.profile;
  if (profile === null) return 0;
  const threads = Math.min(...profile.settings.threads);
  let worst = 0;
  for (const cut of profile.cuts) {
    const side = (p: typeof cut.prefix) => mean(p?.measurements.find((m) => m.threads === threads)?.samples);
    worst = Math.max(worst, side(cut.prefix) + side(cut.suffix));
  }
  return worst;
}

/** Modelled Edge TPU time of the heaviest head of the catalog with a full reload (the worst case), ms. */
export function deviceMsOf(catalog: Catalog): number {
  let worst = 0;
  for (const cut of catalog.cuts) if (cut.tpu) worst = Math.max(worst, cut.tpu.serviceMs + cut.tpu.reloadMs);
  return worst;
}

/** Median time of decoding a JSON request for the tenant on this thread (three timed runs after one warm-up), ms. */
export function decodeMsOf(service: Service, name: string): number {
  const text = JSON.stringify(exampleRequest(service.metadata(name)));
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    const body = JSON.parse(text) as { inputs: { data: number[] }[] };
    for (const input of body.inputs) Float64Array.from(input.data);
    times.push(performance.now() - t);
  }
  return times.slice(1).sort((a, b) => a - b)[1]!;
}

/** The model name a workload file gives a tenant (`zoo:mobilenet_v2` → `mobilenet_v2`; else the tenant's name). */
function workloadModel(source: string, name: string): string {
  return source.startsWith('zoo:') ? source.slice(4) : name;
}

/** The costs of the served tenants and the host (see demo-load.ts for how they are used). */
export function measureDemoCosts(service: Service): { costs: DemoTenantCost[]; host: DemoHost } {
  const costs = service.tenants().map((t) => {
    const catalog = service.catalog(t.name);
    return {
      name: t.name,
      model: workloadModel(t.source, t.name),
      hostMs: hostMsOf(catalog),
      overheadMs: decodeMsOf(service, t.name),
      deviceMs: deviceMsOf(catalog),
    };
  });
  const workers = service.runtime.stats().emulation?.workers ?? 1;
  const cores = availableParallelism();
  return { costs, host: { cores, lanes: Math.max(1, Math.min(workers, service.cores, cores)) } };
}

/**
 * The demo load for the tenants the service serves now, or null when it serves none: sized with the first mix
 * after whose step the controller is predicted to switch plans with a clear gain (`chooseDemoLoad`, demo-step.ts).
 * Its `sizing.step` says what was predicted.
 */
export function demoLoadOf(service: Service, device: string): DemoLoad | null {
  if (service.tenantNames().length === 0) return null;
  const { costs, host } = measureDemoCosts(service);
  const catalogs = new Map(costs.map((c) => [c.name, service.catalog(c.name)] as const));
  const workers = service.runtime.stats().emulation?.workers ?? null;
  return chooseDemoLoad(costs, host, device, (load, mix) =>
    planDemoStep(load, catalogs, service.cores, workers, mix),
  );
}
