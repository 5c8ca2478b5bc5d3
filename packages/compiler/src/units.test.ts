import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { formatSize, parseSize } from './units.js';

describe('parseSize', () => {
  it('parses every unit the compiler prints', () => {
    expect(parseSize('0.00B')).toBe(0);
    expect(parseSize('512.00B')).toBe(512);
    expect(parseSize('1.75KiB')).toBe(1792);
    expect(parseSize('604.50KiB')).toBe(619008);
    expect(parseSize('4.23MiB')).toBe(Math.round(4.23 * 1024 * 1024));
    expect(parseSize('1.50GiB')).toBe(1.5 * 1024 ** 3);
  });

  it('accepts SI units and spaces for hand-written logs', () => {
    expect(parseSize('12 KB')).toBe(12000);
    expect(parseSize('2MB')).toBe(2_000_000);
    expect(parseSize('1gb')).toBe(1e9);
  });

  it('refuses text that is not a size', () => {
    for (const bad of ['', 'MiB', '4.23', '-1.00B', '4.23 TiB', 'abc']) {
      expect(() => parseSize(bad)).toThrow(InvalidArgumentError);
    }
    try {
      parseSize('4.23');
    } catch (err) {
      expect((err as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect((err as Error).message).toMatch(/^Expected a size .* but received "4.23"$/);
    }
  });

  it('formats like the compiler and round-trips within the printed precision', () => {
    expect(formatSize(0)).toBe('0.00B');
    expect(formatSize(1792)).toBe('1.75KiB');
    expect(formatSize(4435476)).toBe('4.23MiB');
    for (const bytes of [0, 100, 5000, 3_000_000, 2 ** 31]) {
      const back = parseSize(formatSize(bytes));
      expect(Math.abs(back - bytes)).toBeLessThanOrEqual(Math.max(0.5, bytes * 0.0025));
    }
  });
});
