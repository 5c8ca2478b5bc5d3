import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VariantStore, type VariantStoreEvent } from '@swapless/compiler';
import { ErrorCodes } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { describe, expect, inject, it } from 'vitest';
import { input, reference, serviceFactory, usePrivateCache } from './test-support.js';

// Variants have one home: the controller's catalogue, the runtime and the service's device view of a served
// tenant all read the same VariantStore, so each (model, k) is split once in the process.

const N = 10; // compute ops of the test network

usePrivateCache();
const make = serviceFactory();

/** A store that records its work. */
function recordingStore(): { store: VariantStore; events: VariantStoreEvent[] } {
  const events: VariantStoreEvent[] = [];
  return { store: new VariantStore({ onEvent: (e) => events.push(e) }), events };
}

/** `<model>:<k>` of every split, in order. */
function splits(events: readonly VariantStoreEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'split' ? [`${e.model}:${e.k}`] : []));
}

describe('one split per (model, k) across controller, runtime and service', () => {
  it('splits every cut a served tenant uses once, through its catalogue, reconfigurations and status reads', async () => {
    const { store, events } = recordingStore();
    const s = await make({ variants: store, policy: 'fixed' });
    const model = writeModel(buildTestNet(11));
    const added = await s.addTenant({ name: 'a', model, source: 'test:a' });
    const catalogCuts = s.catalog('a').cuts.map((c) => c.k);
    // Every cut of the catalogue, as the runtime would be moved through them, with a request and the read models
    // (status, device view) at each.
    for (const k of [...catalogCuts, added.k, 0]) {
      await s.runtime.reconfigure({ tenants: [{ name: 'a', k, cores: k === N ? 0 : 1 }] });
      const x = input(k);
      expect((await s.infer('a', [x])).outputs).toEqual(reference(model, x));
      s.device();
      s.tenants();
    }
    // A second tenant of the same model (another copy of its bytes) parses and splits nothing.
    await s.addTenant({ name: 'b', model: model.slice(), source: 'test:b' });
    await s.runtime.reconfigure({ tenants: [{ name: 'b', k: catalogCuts.at(-1)!, cores: 0 }] });
    s.device();

    expect(events.filter((e) => e.type === 'parse')).toHaveLength(1);
    const done = splits(events);
    expect(new Set(done).size).toBe(done.length);
    const sha = store.model(model).sha256;
    // The catalogue split every cut with a head; the runtime's k = 0 is the one cut only it asked for.
    expect(done.map((key) => Number(key.slice(sha.length + 1))).sort((a, b) => a - b)).toEqual(
      [...new Set([0, ...catalogCuts])].sort((a, b) => a - b),
    );
    // One emulated report per head (the catalogue's), reused by the runtime and the device view.
    const reports = events.filter((e) => e.type === 'report');
    expect(reports).toHaveLength(catalogCuts.filter((k) => k > 0).length);
  });

  it('compiles the head of a tenant on a real Edge TPU once, from the split the catalogue made (fake compiler, mock delegate)', async () => {
    const fake = fileURLToPath(
      new URL('../../compiler/test/fake-compiler/edgetpu_compiler.mjs', import.meta.url),
    );
    const { store, events } = recordingStore();
    const s = await make({
      variants: store,
      policy: 'fixed',
      device: { edgetpu: { library: inject('mockEdgeTpuLibrary') }, compilerPath: fake },
    });
    expect(s.warnings).toEqual([]);
    const model = writeModel(buildTestNet(12));
    const t = await s.addTenant({ name: 'cam', model, source: 'test:cam' });
    expect(t.k).toBeGreaterThan(0);
    const x = input(3);
    expect((await s.infer('cam', [x])).outputs).toEqual(reference(model, x));
    // Leave the cut and come back: the loaded head is released and loaded again, from memory.
    await s.runtime.reconfigure({ tenants: [{ name: 'cam', k: 0, cores: 1 }] });
    await s.runtime.reconfigure({ tenants: [{ name: 'cam', k: t.k, cores: 1 }] });
    expect((await s.infer('cam', [x])).outputs).toEqual(reference(model, x));
    const compiles = events.filter((e) => e.type === 'compile');
    expect(compiles).toEqual([
      { type: 'compile', model: store.model(model).sha256, k: t.k, fromCache: false },
    ]);
    const done = splits(events);
    expect(new Set(done).size).toBe(done.length);
  });

  it('refuses a variants option that is not a store, and bytes that are not a model with a typed error', async () => {
    await expect(make({ variants: {} as unknown as VariantStore })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    const { store } = recordingStore();
    const s = await make({ variants: store });
    const hostile = new Uint8Array(2048).map((_, i) => (i * 97) % 256);
    await expect(s.addTenant({ name: 'h', model: hostile, source: 'test:h' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_MODEL,
    });
    expect(store.stats()).toMatchObject({ models: 0, splits: 0 });
    expect(s.tenants()).toEqual([]);
  });
});

describe('nothing else splits a model for serving', () => {
  it('leaves splitting and compile reports of heads to @swapless/compiler in controller, runtime and service', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const offenders: string[] = [];
    for (const pkg of ['controller', 'runtime', 'service']) {
      const dir = join(root, pkg, 'src');
      for (const file of await readdir(dir)) {
        if (!file.endsWith('.ts') || file.includes('.test') || file.endsWith('.d.ts')) continue;
        const text = await readFile(join(dir, file), 'utf8');
        for (const call of ['splitModel(', 'splitBytes(', 'compileReport(']) {
          if (text.includes(call)) offenders.push(`${pkg}/src/${file}: ${call}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
