import { describe, expect, it } from 'vitest';
import { isValidRange, isValidVersion, satisfies } from './semver.js';

describe('semver ranges', () => {
  const table: [range: string, yes: string[], no: string[]][] = [
    ['1.0.0', ['1.0.0'], ['1.0.1', '0.9.9']],
    ['=1.2.3', ['1.2.3'], ['1.2.4']],
    ['^1.0.0', ['1.0.0', '1.9.9'], ['2.0.0', '0.9.0']],
    ['^1.2.3', ['1.2.3', '1.99.0'], ['1.2.2', '2.0.0']],
    ['^0.2.3', ['0.2.3', '0.2.9'], ['0.3.0', '0.2.2']],
    ['^0.0.3', ['0.0.3'], ['0.0.4']],
    ['^0.0', ['0.0.7'], ['0.1.0']],
    ['^1', ['1.0.0', '1.5.0'], ['2.0.0']],
    ['^1.x', ['1.4.0'], ['2.0.0']],
    ['~1.2.3', ['1.2.3', '1.2.9'], ['1.3.0', '1.2.2']],
    ['~1.2', ['1.2.0', '1.2.5'], ['1.3.0']],
    ['~1', ['1.9.0'], ['2.0.0']],
    ['>=1.0.0', ['1.0.0', '7.0.0'], ['0.9.9']],
    ['>= 1.0.0 < 2', ['1.5.0'], ['2.0.0']],
    ['>1.2', ['1.3.0'], ['1.2.9']],
    ['<=1', ['1.9.9'], ['2.0.0']],
    ['<1.2', ['1.1.9'], ['1.2.0']],
    ['1.x', ['1.0.0', '1.9.9'], ['2.0.0', '0.1.0']],
    ['1.2.*', ['1.2.0'], ['1.3.0']],
    ['1', ['1.2.3'], ['2.0.0']],
    ['*', ['0.0.1', '9.9.9'], []],
    ['', ['1.0.0'], []],
    ['1.0.0 - 1.4', ['1.0.0', '1.4.9'], ['1.5.0']],
    ['1.0.0 - 1.4.2', ['1.4.2'], ['1.4.3']],
    ['^2.0.0 || ^1.1.0', ['1.1.0', '2.3.0'], ['1.0.9', '3.0.0']],
  ];
  for (const [range, yes, no] of table) {
    it(`${JSON.stringify(range)}`, () => {
      expect(isValidRange(range)).toBe(true);
      for (const v of yes) expect(satisfies(v, range), `${v} in ${range}`).toBe(true);
      for (const v of no) expect(satisfies(v, range), `${v} not in ${range}`).toBe(false);
    });
  }

  it('pre-releases sort below their release', () => {
    expect(satisfies('1.0.0-beta.2', '>=1.0.0-beta.1 <1.0.0')).toBe(true);
    expect(satisfies('1.0.0-alpha', '>=1.0.0')).toBe(false);
  });

  it('rejects what is not a range or a version, without throwing', () => {
    for (const bad of ['^', 'abc', '>=x.y', '1.2.3.4', '^^1']) expect(isValidRange(bad), bad).toBe(false);
    expect(satisfies('1.0.0', 'abc')).toBe(false);
    expect(satisfies('one', '*')).toBe(false);
    expect(isValidVersion('1.0.0')).toBe(true);
    expect(isValidVersion('1.0')).toBe(false);
  });
});
