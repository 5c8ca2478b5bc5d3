import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes } from '@swapless/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticProfile, tempDir, testNetBytes } from './fixtures.test-util.js';
import { profileModel } from './profile.js';
import { InvalidProfileError, loadProfile, saveProfile, validateProfile } from './schema.js';
import type { Profile } from './types.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function expectInvalid(json: unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    validateProfile(json);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidProfileError);
  const e = caught as InvalidProfileError;
  expect(e.code).toBe(ErrorCodes.INVALID_ARGUMENT);
  expect(e.message).toMatch(/^Expected a valid SwapLess profile/);
  for (const f of fragments) expect(e.message).toContain(f);
  expect(Array.isArray(e.details.errors)).toBe(true);
}

describe('validateProfile', () => {
  let measured: Profile;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
    measured = clone(
      await profileModel(testNetBytes(), { cuts: [0, 4, 10], threads: [1, 2], repetitions: 3, cache: false }),
    );
  });
  afterAll(() => tmp.cleanup());

  it('accepts a measured profile and a hand-made one, returning the same object', () => {
    expect(validateProfile(measured)).toBe(measured);
    const synthetic = syntheticProfile([0, 3, 6], 6, [1, 2], (k) => 6 - k + 1);
    expect(validateProfile(synthetic)).toBe(synthetic);
  });

  it('rejects a missing field with its path', () => {
    const p = clone(measured) as unknown as Record<string, unknown>;
    delete p.host;
    expectInvalid(p, "/ must have required property 'host'");
    const q = clone(measured);
    delete (q.cuts[1]!.suffix!.measurements[0] as unknown as Record<string, unknown>).median;
    expectInvalid(q, "/cuts/1/suffix/measurements/0 must have required property 'median'");
  });

  it('rejects wrong types, NaN, negative times and unknown properties', () => {
    const p = clone(measured);
    (p.cuts[1]!.suffix!.measurements[1]! as unknown as Record<string, unknown>).median = '1.0';
    expectInvalid(p, '/cuts/1/suffix/measurements/1/median must be number');
    const q = clone(measured);
    q.cuts[1]!.prefix!.measurements[0]!.samples[2] = Number.NaN;
    expectInvalid(q, '/cuts/1/prefix/measurements/0/samples/2 must be number');
    const r = clone(measured);
    r.cuts[0]!.suffix!.measurements[0]!.min = -1;
    expectInvalid(r, '/cuts/0/suffix/measurements/0/min must be >= 0');
    const s = clone(measured) as unknown as Record<string, unknown>;
    s.extra = 1;
    expectInvalid(s, 'must NOT have additional properties (extra)');
    expectInvalid({ ...clone(measured), schemaVersion: 1 }, '/schemaVersion must be equal to constant');
    expectInvalid(null, '/ must be object');
  });

  it('rejects documents that are well-typed but inconsistent', () => {
    const p = clone(measured);
    p.cuts[1]!.suffix!.measurements[0]!.samples.pop();
    expectInvalid(p, '/cuts/1/suffix/measurements/0/samples must have 3 samples');
    const q = clone(measured);
    q.cuts[0]!.prefix = clone(q.cuts[1]!.prefix);
    expectInvalid(q, '/cuts/0/prefix must be null');
    const r = clone(measured);
    r.cuts.reverse();
    expectInvalid(r, 'must be greater than the previous cut');
    const s = clone(measured);
    s.cuts[2]!.k = 11;
    expectInvalid(s, '/cuts/2/k must be at most n (10)');
    const t = clone(measured);
    t.cuts[1]!.suffix!.measurements.reverse();
    expectInvalid(t, 'settings.threads order');
  });

  it('saves and loads through the schema, and refuses to save an invalid document', async () => {
    const path = join(tmp.dir, 'p.json');
    await saveProfile(path, measured);
    expect(await loadProfile(path)).toEqual(measured);
    const broken = clone(measured);
    broken.cuts[0]!.suffix!.measurements[0]!.mean = Number.NaN; // becomes null in JSON
    await expect(saveProfile(join(tmp.dir, 'q.json'), broken)).rejects.toBeInstanceOf(InvalidProfileError);
    await expect(readFile(join(tmp.dir, 'q.json'))).rejects.toThrow();
  });

  it('loadProfile: not JSON → InvalidProfileError, missing file → SWAPLESS_IO', async () => {
    const path = join(tmp.dir, 'garbage.json');
    await writeFile(path, '{"schemaVersion": 1, "cuts": [');
    await expect(loadProfile(path)).rejects.toThrow(/is not JSON/);
    await expect(loadProfile(join(tmp.dir, 'none.json'))).rejects.toMatchObject({ code: ErrorCodes.IO });
  });
});
