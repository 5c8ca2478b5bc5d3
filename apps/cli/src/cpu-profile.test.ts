// --cpu on profile, emulate, plan and bench: modelled CPU stages (nothing measured), unknown profiles refused.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, useTempCache } from './test-util.js';

const cacheDir = useTempCache('cpu-profile');

describe('swapless profile --cpu', () => {
  it('reports the modelled whole-model time with its thread count, and the cuts per thread count', async () => {
    const r = await cli('profile', 'mobilenet_v1', '--cpu', 'devboard-a53', '--json');
    expect(r.status).toBe(0);
    const p = JSON.parse(r.out);
    expect(p.cpu).toBe('devboard-a53');
    expect(p.source).toBe('emulated');
    expect(p.wholeModelThreads).toBe(1);
    // Coral's published figure for MobileNet v1 on the A53 is 164 ms; the calibration lands within 15 %.
    expect(p.wholeModelMs).toBeGreaterThan(164 * 0.85);
    expect(p.wholeModelMs).toBeLessThan(164 * 1.15);
    expect(p.threads).toEqual([1, 2, 3, 4]);
    const text = await cli('profile', 'mobilenet_v1', '--cpu', 'rpi4-a72', '--threads', '1,2');
    expect(text.status).toBe(0);
    expect(text.out).toMatch(/EMULATED: modelled for rpi4-a72/);
  });

  it('refuses an unknown profile with SWAPLESS_INVALID_CONFIG naming the valid ones', async () => {
    const r = await cli('profile', 'mobilenet_v1', '--cpu', 'pentium', '--json');
    expect(r.status).not.toBe(0);
    const e = JSON.parse(r.out).error;
    expect(e.code).toBe('SWAPLESS_INVALID_CONFIG');
    expect(e.message).toContain('"devboard-a53"');
  });
});

describe('swapless emulate --cpu', () => {
  it('adds the CPU part [k,n) modelled on the target', async () => {
    const r = await cli('emulate', 'mobilenet_v2', '--cut', '30', '--cpu', 'devboard-a53', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.cpu.profile).toBe('devboard-a53');
    expect(j.cpu.k).toBe(30);
    expect(j.cpu.suffix).toHaveLength(4);
    expect(j.cpu.suffix[3].ms).toBeLessThan(j.cpu.suffix[0].ms);
  });
});

describe('swapless plan / bench with a modelled CPU', () => {
  it('plans with emulated CPU stages from the workload (no profiling) and refuses live mode', async () => {
    const path = join(cacheDir(), 'devboard.json');
    await writeFile(
      path,
      JSON.stringify({
        device: 'devboard',
        cpu: { cores: 2, profile: 'devboard-a53' },
        tenants: [{ name: 'a', model: 'mobilenet_v2', rate: 5 }],
        durationS: 5,
      }),
    );
    const plan = await cli('plan', path, '--no-simulate', '--json');
    expect(plan.status).toBe(0);
    const j = JSON.parse(plan.out);
    expect(j.cpuProfile).toBe('devboard-a53');
    expect(j.sources.cpu).toBe('emulated');
    const live = await cli('bench', path, '--mode', 'live', '--json');
    expect(live.status).toBe(2);
    expect(JSON.parse(live.out).error.code).toBe('SWAPLESS_USAGE');
    const bad = await cli('plan', path, '--cpu', 'pentium', '--json');
    expect(JSON.parse(bad.out).error.code).toBe('SWAPLESS_INVALID_CONFIG');
  });
});
