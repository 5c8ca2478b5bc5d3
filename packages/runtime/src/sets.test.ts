// Co-compiled head sets in the emulated runtime: a decision's `sets` makes the members' heads one unit (one caching
// token), switched atomically with one reconfiguration while requests keep flowing.
import type { TensorArray } from '@swapless/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type ReconfigureEvent, type RequestTrace, type Runtime } from './index.js';
import { setPlaces } from './sets.js';
import { reference, testInput, testNetBytes } from './test-support.js';

const A = testNetBytes(0);
const B = testNetBytes(7);

let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
});

describe('setPlaces', () => {
  it('keeps members with a head, in order, and drops a set left with one', () => {
    const cuts: Record<string, number> = { a: 4, b: 0, c: 6, d: 2 };
    const places = setPlaces(
      [
        ['c', 'a', 'zz'],
        ['b', 'd'],
      ],
      (n) => cuts[n],
    );
    expect([...places.keys()]).toEqual(['c', 'a']);
    expect(places.get('a')).toMatchObject({ index: 1, key: 'c@6+a@4' });
    expect(setPlaces(undefined, () => 1).size).toBe(0);
  });
});

describe('co-compiled sets under load', () => {
  it('switches two tenants onto one set and back with 0 failed requests; the set stops their reloads', async () => {
    const r = await createRuntime({ cores: 2, emulator: { timeScale: 0 } });
    rt = r;
    await r.addTenant({ name: 'a', model: A, choice: { k: 4, cores: 1 } });
    await r.addTenant({ name: 'b', model: B, choice: { k: 6, cores: 1 } });
    const events: ReconfigureEvent[] = [];
    r.on('reconfigure', (e: ReconfigureEvent) => events.push(e));
    const want = new Map<string, TensorArray[]>([
      ['a', reference(A, [testInput(1)])],
      ['b', reference(B, [testInput(1)])],
    ]);
    const traces: { name: string; trace: RequestTrace }[] = [];
    let failed = 0;
    let stop = false;
    let outstanding = 0;
    const load = (async () => {
      const inFlight: Promise<void>[] = [];
      for (let i = 0; !stop; i++) {
        const name = i % 2 === 0 ? 'a' : 'b';
        outstanding++;
        inFlight.push(
          r.submit(name, [testInput(1)]).then(
            (res) => {
              expect(res.outputs).toEqual(want.get(name));
              traces.push({ name, trace: res.trace });
            },
            () => {
              failed++;
            },
          ),
        );
        inFlight.at(-1)!.finally(() => outstanding--);
        // A bounded backlog, well under the queue limit: nothing is rejected for overload.
        while (outstanding > 12 && !stop) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await Promise.all(inFlight);
    })();
    const pause = () => new Promise((resolve) => setTimeout(resolve, 60));
    await pause();
    // Only `a` is listed: `b` switches too, because its set changes.
    const on = await r.reconfigure({ tenants: [{ name: 'a', k: 4, cores: 1 }], sets: [['a', 'b']] });
    await pause();
    const off = await r.reconfigure({ tenants: [{ name: 'a', k: 4, cores: 1 }] });
    await pause();
    stop = true;
    await load;
    expect(failed).toBe(0);
    expect(on.tenants.map((t) => t.name).sort()).toEqual(['a', 'b']);
    expect(off.tenants.map((t) => t.name).sort()).toEqual(['a', 'b']);
    const setConfigs = new Set(on.tenants.map((t) => t.to.config));
    const inSet = traces.filter((t) => setConfigs.has(t.trace.config));
    const apart = traces.filter((t) => !setConfigs.has(t.trace.config));
    expect(inSet.length).toBeGreaterThan(20);
    expect(new Set(inSet.map((t) => t.name))).toEqual(new Set(['a', 'b']));
    const reloadShare = (ts: typeof traces) => ts.filter((t) => t.trace.tpu?.reload).length / ts.length;
    // Separately compiled heads taking turns reload often; in the set, at most the first call after the switch.
    expect(reloadShare(apart)).toBeGreaterThan(0.3);
    expect(inSet.filter((t) => t.trace.tpu?.reload).length).toBeLessThanOrEqual(2);
    expect(events.filter((e) => e.phase === 'switched')).toHaveLength(2);
  }, 30_000);
});
