// The server config's cpu section: host by default, a modelled profile accepted with a planning-only warning,
// an unknown one refused with SWAPLESS_INVALID_CONFIG listing the valid profiles.
import { ErrorCodes, InvalidConfigError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';

describe('server config cpu.profile', () => {
  it('defaults to host with no warning about it', () => {
    const { config, warnings } = parseConfig({ repository: null });
    expect(config.cpu).toEqual({ profile: 'host' });
    expect(warnings.some((w) => w.includes('cpu.profile'))).toBe(false);
  });

  it('accepts a modelled profile and says it is planning-only', () => {
    const { config, warnings } = parseConfig({ repository: null, cpu: { profile: 'devboard-a53' } });
    expect(config.cpu.profile).toBe('devboard-a53');
    expect(warnings.find((w) => w.includes('cpu.profile'))).toMatch(/planning only/);
  });

  it('refuses an unknown profile, listing the valid ones', () => {
    let err: unknown;
    try {
      parseConfig({ repository: null, cpu: { profile: 'pentium' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).code).toBe(ErrorCodes.INVALID_CONFIG);
    const problems = (err as InvalidConfigError).problems.join('\n');
    expect(problems).toMatch(/\/cpu\/profile: unknown CPU profile "pentium"/);
    expect(problems).toContain('"rpi4-a72"');
  });
});
