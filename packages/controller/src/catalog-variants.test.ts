// A catalogue reads its model and its heads' compile reports from the variant store of @swapless/compiler: the
// model is parsed once and each cut split once, however many catalogues of it are built.
import { VariantStore, type VariantStoreEvent } from '@swapless/compiler';
import { ErrorCodes } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { callBreakdown, getProfile } from '@swapless/tpu-emulator';
import { describe, expect, it } from 'vitest';
import { buildCatalog } from './catalog.js';

const bytes = writeModel(buildTestNet(4));

describe('buildCatalog with a variant store', () => {
  it('splits each catalogued cut once across catalogues, and reports each head once per device profile', async () => {
    const events: VariantStoreEvent[] = [];
    const variants = new VariantStore({ onEvent: (e) => events.push(e) });
    // A modelled CPU: nothing is measured, so this is only the catalogue's own work.
    const options = { cpu: 'devboard-a53', cuts: 'all', variants } as const;
    const a = await buildCatalog(bytes, { ...options, name: 'a', device: 'devboard' });
    await buildCatalog(bytes.slice(), { ...options, name: 'b', device: 'devboard' });
    const onUsb = await buildCatalog(bytes, { ...options, name: 'c', device: 'usb3' });
    const heads = a.cuts.filter((c) => c.k > 0).map((c) => c.k);
    expect(heads.length).toBeGreaterThan(2);
    expect(events.filter((e) => e.type === 'parse')).toHaveLength(1);
    expect(events.flatMap((e) => (e.type === 'split' ? [e.k] : []))).toEqual(heads);
    expect(events.filter((e) => e.type === 'report')).toHaveLength(2 * heads.length);
    // The stages are the store's reports through the device model.
    const usb3 = getProfile('usb3');
    for (const c of onUsb.cuts.filter((cut) => cut.k > 0)) {
      const report = variants.report(bytes, c.k, usb3)!;
      expect(c.tpu).toMatchObject({
        token: report.cachingToken,
        serviceMs: callBreakdown(report, usb3).totalMs,
      });
    }
  });

  it('refuses a variants option that is not a store, and bytes that are not a model, with typed errors', async () => {
    await expect(
      buildCatalog(bytes, { cpu: 'devboard-a53', variants: {} as unknown as VariantStore }),
    ).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    const variants = new VariantStore();
    await expect(
      buildCatalog(new Uint8Array(300).fill(9), { cpu: 'devboard-a53', variants }),
    ).rejects.toMatchObject({ code: ErrorCodes.INVALID_MODEL });
    expect(variants.stats()).toMatchObject({ models: 0, splits: 0 });
  });
});
