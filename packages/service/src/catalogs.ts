/**
 * The catalogues of new tenants' models, one build per model hash (tenants.ts asks for them): a model the service
 * splits is profiled on this host (`buildCatalog`); a compiled `*_edgetpu.tflite` on the real Edge TPU is timed
 * on the device (`compiledCatalog` with a measured Edge TPU stage).
 */
import { buildCatalog, compiledCatalog, type TenantCatalog, withDeviceCatalogs } from '@swapless/controller';
import { createInterpreter } from '@swapless/edgetpu';
import type { EdgeTpuBackendOptions } from '@swapless/runtime';
import type { ServiceState } from './state.js';

/** Warm invokes timed per compiled model when it is registered on the real Edge TPU. */
const COMPILED_TIMED_RUNS = 10;

/** Catalogues being built or built, per model hash (a failed build is forgotten so that a retry builds again). */
export class Catalogs {
  readonly #state: ServiceState;
  readonly #built = new Map<string, Promise<TenantCatalog>>();

  /** @param state The service's shared state (device profile, threads, variants, profiling options). */
  constructor(state: ServiceState) {
    this.#state = state;
  }

  #cached(sha256: string, build: () => Promise<TenantCatalog>): Promise<TenantCatalog> {
    let p = this.#built.get(sha256);
    if (p === undefined) {
      const built = build();
      p = built;
      this.#built.set(sha256, built);
      built.catch(() => {
        if (this.#built.get(sha256) === built) this.#built.delete(sha256);
      });
    }
    return p;
  }

  /**
   * The catalog of a model the service splits: its cuts, with CPU times profiled on this host and the Edge TPU
   * stages of the first device's profile — and, on a host with devices of other profiles, its catalog for each of
   * those (`withDeviceCatalogs`: the same cuts and CPU times, the stages re-timed per profile).
   */
  split(bytes: Uint8Array, sha256: string, label: string): Promise<TenantCatalog> {
    return this.#cached(sha256, async () => {
      const { options, profile, threads, variants, placement } = this.#state;
      const profiling = options.profiling ?? {};
      const built = await buildCatalog(bytes, {
        name: label,
        device: profile,
        threads,
        variants,
        ...(profiling.repetitions !== undefined ? { repetitions: profiling.repetitions } : {}),
        ...(profiling.maxCuts !== undefined ? { maxCuts: profiling.maxCuts } : {}),
        ...(profiling.cache !== undefined ? { cache: profiling.cache } : {}),
        ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
      });
      return withDeviceCatalogs(bytes, built, placement.devices, profile.name, { variants });
    });
  }

  /**
   * The catalog of a compiled model on the real Edge TPU: its one fixed choice (the whole model on the device),
   * with the Edge TPU stage measured there — warm invokes give the service time, the first invoke beyond them
   * the cost of loading its parameters (what a token switch costs it again).
   */
  compiled(bytes: Uint8Array, sha256: string, label: string): Promise<TenantCatalog> {
    return this.#cached(sha256, () => {
      const { edgetpu, profile, variants } = this.#state;
      return measureOnEdgeTpu(bytes, edgetpu ?? {}).then((tpu) =>
        compiledCatalog(bytes, {
          name: label,
          device: profile.name,
          tpu: { ...tpu, token: `compiled:${sha256.slice(0, 16)}` },
          variants,
        }),
      );
    });
  }
}

/**
 * Times a compiled model on the real Edge TPU (zero inputs: the device's time does not depend on the values):
 * mean and variance of warm invokes, and the extra time of the first one (its parameters' upload). The invokes run
 * on the libuv thread pool (`invokeAsync`), so the other tenants are served meanwhile; creating the interpreter
 * (loading the model onto the device) is synchronous. This model is not vetted (see `Service.vet`).
 */
async function measureOnEdgeTpu(
  bytes: Uint8Array,
  edgetpu: EdgeTpuBackendOptions,
): Promise<{ serviceMs: number; serviceVarianceMs2: number; reloadMs: number; source: 'measured' }> {
  const settings: { library?: string; device?: string; options?: Record<string, string> } = {};
  if (edgetpu.library !== undefined) settings.library = edgetpu.library;
  if (edgetpu.device !== undefined) settings.device = edgetpu.device;
  if (edgetpu.options !== undefined) settings.options = edgetpu.options;
  const it = createInterpreter(bytes, { threads: 1, delegate: 'edgetpu', edgetpu: settings });
  try {
    // Each timing includes the hop to the thread pool and back (tens of µs): small beside an Edge TPU invoke.
    const time = async (): Promise<number> => {
      const t = performance.now();
      await it.invokeAsync();
      return performance.now() - t;
    };
    const first = await time();
    await time();
    const samples: number[] = [];
    for (let i = 0; i < COMPILED_TIMED_RUNS; i++) samples.push(await time());
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, samples.length - 1);
    return {
      serviceMs: mean,
      serviceVarianceMs2: variance,
      reloadMs: Math.max(0, first - mean),
      source: 'measured',
    };
  } finally {
    it.dispose();
  }
}
