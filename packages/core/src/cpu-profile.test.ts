// CPU profiles: built-ins resolve, custom profiles merge over their base, and anything else is one
// SWAPLESS_INVALID_CONFIG that lists the valid profiles — alone and inside a workload.
import { describe, expect, it } from 'vitest';
import { CPU_PROFILE_NAMES, InvalidConfigError, parseWorkload, resolveCpuProfile } from './index.js';

const catchErr = (f: () => unknown): InvalidConfigError => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    return err as InvalidConfigError;
  }
  throw new Error('expected a throw');
};

describe('resolveCpuProfile', () => {
  it('resolves host by default and every built-in by name', () => {
    expect(resolveCpuProfile()).toEqual({ name: 'host', kind: 'host' });
    for (const name of CPU_PROFILE_NAMES.filter((n) => n !== 'host')) {
      const p = resolveCpuProfile(name);
      expect(p.kind).toBe('model');
      if (p.kind !== 'model') continue;
      expect(p.name).toBe(name);
      expect(p.cores).toBe(4);
      expect(p.calibratedThreads).toBe(1);
      expect(Object.isFrozen(p)).toBe(true);
    }
    const a53 = resolveCpuProfile('devboard-a53');
    const a72 = resolveCpuProfile('rpi4-a72');
    if (a53.kind !== 'model' || a72.kind !== 'model') throw new Error('modelled');
    expect(a72.rates.conv / a53.rates.conv).toBeCloseTo(2 / (1.5 / 1.4), 9);
  });

  it('merges a custom profile over its base', () => {
    const p = resolveCpuProfile({ name: 'slow', base: 'rpi4-a72', cores: 2, rates: { conv: 1e6 } });
    const base = resolveCpuProfile('rpi4-a72');
    if (p.kind !== 'model' || base.kind !== 'model') throw new Error('modelled');
    expect(p.name).toBe('slow');
    expect(p.cores).toBe(2);
    expect(p.rates.conv).toBe(1e6);
    expect(p.rates.depthwise).toBe(base.rates.depthwise);
    expect(p.parallel).toEqual(base.parallel);
  });

  it('refuses unknown names and bad custom profiles, listing the valid ones', () => {
    const e = catchErr(() => resolveCpuProfile('pentium'));
    expect(e.code).toBe('SWAPLESS_INVALID_CONFIG');
    for (const n of CPU_PROFILE_NAMES) expect(e.message).toContain(JSON.stringify(n));
    expect(e.problems).toEqual(['cpu.profile: unknown CPU profile "pentium"']);
    const bad = catchErr(() => resolveCpuProfile({ name: 'x', rates: { conv: 0 }, parallel: { conv: 2 } }));
    expect(bad.problems.join('\n')).toMatch(/cpu\.profile\/rates\/conv/);
    expect(bad.problems.join('\n')).toMatch(/cpu\.profile\/parallel\/conv/);
    // A custom profile may not take a built-in's name, nor unknown fields.
    catchErr(() => resolveCpuProfile({ name: 'devboard-a53' }));
    catchErr(() => resolveCpuProfile({ name: 'y', turbo: true }));
    catchErr(() => resolveCpuProfile(42));
  });
});

describe('workload cpu.profile', () => {
  const tenants = [{ name: 'a', model: 'mobilenet_v2', rate: 1 }];

  it('defaults to host and keeps a named or custom profile', () => {
    expect(parseWorkload({ tenants }).workload.cpu).toEqual({ cores: 2, profile: 'host' });
    expect(parseWorkload({ tenants, cpu: { profile: 'devboard-a53' } }).workload.cpu.profile).toBe(
      'devboard-a53',
    );
    const custom = { name: 'mine', rates: { conv: 2e6 } };
    expect(parseWorkload({ tenants, cpu: { cores: 4, profile: custom } }).workload.cpu.profile).toEqual(
      custom,
    );
  });

  it('refuses an unknown profile with its JSON path and the valid ones', () => {
    const e = catchErr(() => parseWorkload({ tenants, cpu: { profile: 'pentium' } }, 'w.json'));
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^\/cpu\/profile: unknown CPU profile "pentium" \(valid: .*"devboard-a53"/);
  });
});
