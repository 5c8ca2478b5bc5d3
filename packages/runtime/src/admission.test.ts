import { ErrorCodes, isSwapLessError } from '@swapless/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, REJECTION_CODES, type Runtime } from './index.js';
import { testInput, testNetBytes } from './test-support.js';

let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
});

describe('admission control (TenantChoice.admit)', () => {
  it('refuses exactly the shed share with SWAPLESS_SHED_FOR_SLO, spread evenly, and counts it', async () => {
    rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 } });
    await rt.addTenant({ name: 'a', model: testNetBytes(0), choice: { k: 4, cores: 1 } });
    await rt.addTenant({ name: 'b', model: testNetBytes(7), choice: { k: 4, cores: 1 } });
    await rt.reconfigure({ tenants: [{ name: 'a', k: 4, cores: 1, mode: 'mg1', admit: 0.25 }] });
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      try {
        await rt.submit('a', [testInput(i)]);
        outcomes.push('ok');
      } catch (e) {
        expect(isSwapLessError(e, ErrorCodes.SHED_FOR_SLO)).toBe(true);
        expect((e as { details: object }).details).toMatchObject({
          reason: 'shed-for-slo',
          tenant: 'a',
          admit: 0.25,
        });
        outcomes.push('shed');
      }
    }
    // One in four admitted, evenly: every fourth request.
    expect(outcomes).toEqual(Array.from({ length: 12 }, (_, i) => (i % 4 === 3 ? 'ok' : 'shed')));
    // The other tenant is untouched.
    await rt.submit('b', [testInput(1)]);
    const st = rt.stats().tenants;
    expect(st.a).toMatchObject({ admit: 0.25, rejected: { shed: 9, overloaded: 0 }, admitted: 3 });
    expect(st.b).toMatchObject({ admit: 1, rejected: { shed: 0 } });
    // Shed requests still count as arrivals for the rate estimate.
    expect(rt.observe().tenants.a!.arrivalsMs.length).toBe(12);
    expect(REJECTION_CODES).toContain(ErrorCodes.SHED_FOR_SLO);
    // A later decision without `admit` admits everything again.
    await rt.reconfigure({ tenants: [{ name: 'a', k: 4, cores: 1, mode: 'mg1' }] });
    await rt.submit('a', [testInput(2)]);
    expect(rt.stats().tenants.a).toMatchObject({ admit: 1, rejected: { shed: 9 } });
  });

  it('refuses an admitted fraction outside [0, 1] and leaves every tenant as it was', async () => {
    rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 } });
    await rt.addTenant({ name: 'a', model: testNetBytes(0), choice: { k: 4, cores: 1 } });
    for (const admit of [1.5, -0.1, Number.NaN, '0.5']) {
      await expect(
        rt.reconfigure({ tenants: [{ name: 'a', k: 4, cores: 1, mode: 'mg1', admit: admit as number }] }),
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    }
    expect(rt.stats().tenants.a!.admit).toBe(1);
  });
});
