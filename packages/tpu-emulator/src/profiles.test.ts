import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import {
  BUILTIN_PROFILE_NAMES,
  BUILTIN_PROFILES,
  getProfile,
  ProfileErrorReasons,
  parseProfile,
  parseProfileJson,
  resolveProfile,
} from './profiles.js';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    return (e as InvalidArgumentError).details.reason as string;
  }
  throw new Error('expected a throw');
}

describe('built-in profiles', () => {
  it('are valid against the schema and physically plausible (FACTS ranges)', () => {
    for (const name of BUILTIN_PROFILE_NAMES) {
      const p = getProfile(name);
      expect(parseProfile(JSON.parse(JSON.stringify(p)))).toEqual(p);
      expect([250, 500]).toContain(p.clockMHz);
      // Peak 4 TOPS int8 = 2 · MACs/cycle · clock.
      expect((2 * p.macsPerCycle * p.clockMHz * 1e6) / 1e12).toBeCloseTo(4.1, 1);
      expect(p.sramMiB).toBe(8);
      expect(p.callOverheadMs).toBeCloseTo(0.3, 5);
      expect(p.outputCostFactor).toBeGreaterThan(1);
    }
    expect(getProfile('usb3').linkMBps).toBe(420);
    expect(getProfile('devboard').linkMBps).toBe(350);
    expect(getProfile('usb2').linkMBps).toBeGreaterThanOrEqual(30);
    expect(getProfile('usb2').linkMBps).toBeLessThanOrEqual(33);
    expect(Object.isFrozen(BUILTIN_PROFILES.usb3.arrayEfficiency)).toBe(true);
  });
});

describe('profile errors', () => {
  it('unknown name → SWAPLESS_INVALID_ARGUMENT, reason unknown-profile', () => {
    expect(reasonOf(() => getProfile('usb4'))).toBe(ProfileErrorReasons.UNKNOWN_PROFILE);
    expect(reasonOf(() => resolveProfile('toString' as never))).toBe(ProfileErrorReasons.UNKNOWN_PROFILE);
  });

  it('text that is not JSON → reason malformed-profile-json, cause kept', () => {
    expect(reasonOf(() => parseProfileJson('{"name": "x",'))).toBe(ProfileErrorReasons.MALFORMED_JSON);
    try {
      parseProfileJson('nope');
    } catch (e) {
      expect((e as Error).cause).toBeInstanceOf(SyntaxError);
    }
  });

  it('JSON that breaks the schema → reason invalid-profile with the ajv errors', () => {
    const cases: unknown[] = [
      [],
      { name: 'x' }, // not extending: every field required
      { name: 'x', extends: 'usb3', linkMBps: -1 },
      { name: 'x', extends: 'usb3', linkMBps: 'fast' },
      { name: 'x', extends: 'usb3', lnkMBps: 400 }, // typo: unknown field
      { name: 'x', extends: 'usb5' },
      { name: 'x', extends: 'usb3', arrayEfficiency: { CONV_2D: 1.5 } },
      { name: 'x', extends: 'usb3', streamOverlap: 2 },
    ];
    for (const c of cases) {
      expect(reasonOf(() => parseProfile(c))).toBe(ProfileErrorReasons.INVALID_PROFILE);
    }
    try {
      parseProfile({ name: 'x', extends: 'usb3', linkMBps: -1 });
    } catch (e) {
      const errors = (e as InvalidArgumentError).details.errors as { path: string }[];
      expect(errors.some((x) => x.path === '/linkMBps')).toBe(true);
      expect((e as Error).message).toMatch(/^Expected a device profile .* but received/);
    }
  });
});

describe('custom profiles', () => {
  it('extend a built-in one, merging efficiencies, and come back frozen', () => {
    const p = parseProfileJson(
      JSON.stringify({ name: 'usb3-std', extends: 'usb3', clockMHz: 250, arrayEfficiency: { CONV_2D: 0.4 } }),
    );
    expect(p.clockMHz).toBe(250);
    expect(p.linkMBps).toBe(420);
    expect(p.arrayEfficiency.CONV_2D).toBe(0.4);
    expect(p.arrayEfficiency.DEPTHWISE_CONV_2D).toBe(BUILTIN_PROFILES.usb3.arrayEfficiency.DEPTHWISE_CONV_2D);
    expect(Object.isFrozen(p)).toBe(true);
    expect(resolveProfile(p)).toBe(p);
  });

  it('can be complete without extends', () => {
    const { name: _n, ...fields } = BUILTIN_PROFILES.pcie;
    const p = parseProfile({ ...fields, name: 'my-pcie' });
    expect(p.name).toBe('my-pcie');
    expect(p.linkMBps).toBe(350);
  });

  it('hand-built objects are validated when resolved', () => {
    expect(reasonOf(() => resolveProfile({ ...BUILTIN_PROFILES.usb3, linkMBps: 0 }))).toBe(
      ProfileErrorReasons.INVALID_PROFILE,
    );
  });
});
