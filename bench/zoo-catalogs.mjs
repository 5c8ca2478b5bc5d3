// Catalogs of zoo models for the simulation benchmarks (bench:policies, bench:devices, bench:slo): each model
// generated and profiled once per process, every cut, 1 and 2 threads, 5 repetitions; and the multi-tenant mixes
// bench:policies and bench:slo share.
import { readFile } from 'node:fs/promises';
import { buildCatalog } from '@swapless/controller';
import { generateZooModel } from '@swapless/zoo';

/**
 * A catalog cache for one Edge TPU profile (`device`) and CPU profile (`cpu`, omitted: measured on this host).
 * @param {{ device: string, cpu?: string }} options
 */
export function zooCatalogs({ device, cpu }) {
  const cache = new Map();
  return async function catalog(name) {
    if (!cache.has(name)) {
      const g = await generateZooModel(name);
      cache.set(
        name,
        await buildCatalog(new Uint8Array(await readFile(g.path)), {
          name,
          cuts: 'auto',
          threads: [1, 2],
          repetitions: 5,
          device,
          ...(cpu !== undefined ? { cpu } : {}),
        }),
      );
    }
    return cache.get(name);
  };
}

/** A catalog's whole-model Edge TPU call time, ms (the compiler's default prefix). */
export const wholeTpuMs = (cat) => cat.cuts.find((c) => c.k === cat.edgetpuPrefix).tpu.serviceMs;

/**
 * The multi-tenant mixes of bench:policies and bench:slo: [zoo model, share of its whole-model Edge TPU call's
 * capacity] per tenant.
 */
export const MULTI_TENANT_MIXES = [
  [
    ['mobilenet_v2', 0.4],
    ['resnet50_v1', 0.4],
  ],
  [
    ['inception_v4', 0.3],
    ['efficientnet_edgetpu_l', 0.3],
  ],
  [
    ['mobilenet_v1', 0.3],
    ['resnet50_v1', 0.3],
    ['inception_v4', 0.2],
  ],
  [
    ['squeezenet', 0.4],
    ['vgg16', 0.2],
    ['efficientnet_edgetpu_s', 0.3],
  ],
];
