import { describe, expect, it } from 'vitest';
import { DeviceErrorReasons, resolvePlacement } from './devices.js';
import { ErrorCodes, InvalidArgumentError, InvalidConfigError } from './errors.js';
import { parseWorkload, ratesAt } from './workload.js';

const base = {
  device: 'devboard',
  cpu: { cores: 4 },
  tenants: [
    { name: 'cam', model: 'mobilenet_v2', rate: 20 },
    { name: 'faces', model: './models/face.tflite', rate: 5, sloMs: 50 },
  ],
  phases: [{ atS: 30, rates: { cam: 40 } }],
};

function problems(input: unknown): string[] {
  try {
    parseWorkload(input, 'test.json');
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect((err as InvalidConfigError).code).toBe(ErrorCodes.INVALID_CONFIG);
    return [...(err as InvalidConfigError).problems];
  }
  throw new Error('expected InvalidConfigError');
}

describe('parseWorkload', () => {
  it('applies defaults, freezes, and leaves the input untouched', () => {
    const input = { tenants: [{ name: 'a', model: 'squeezenet', rate: 1 }] };
    const { workload, warnings } = parseWorkload(input);
    expect(workload).toEqual({
      device: 'usb3',
      cpu: { cores: 2, profile: 'host' },
      tenants: [{ name: 'a', model: 'squeezenet', rate: 1 }],
      phases: [],
      durationS: 60,
      seed: 1,
    });
    expect(warnings).toEqual([]);
    expect(Object.isFrozen(workload.tenants[0])).toBe(true);
    expect(input).toEqual({ tenants: [{ name: 'a', model: 'squeezenet', rate: 1 }] });
  });

  it('accepts JSON text and reports phase rates over time', () => {
    const { workload } = parseWorkload(JSON.stringify(base));
    expect(ratesAt(workload, 0)).toEqual({ cam: 20, faces: 5 });
    expect(ratesAt(workload, 30)).toEqual({ cam: 40, faces: 5 });
  });

  it('lists every problem with its JSON path', () => {
    const p = problems({ cpu: { cores: 0 }, tenants: [{ name: 'a b', model: '', rate: -1 }], extra: 1 });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/cpu\/cores: must be >= 1/),
        expect.stringMatching(/^\/tenants\/0\/name: must match pattern/),
        expect.stringMatching(/^\/tenants\/0\/rate: must be > 0/),
        expect.stringMatching(/^\/: must NOT have additional properties \(unknown property "extra"\)/),
      ]),
    );
  });

  it('checks what the schema cannot: unique names, ordered phases, phase tenants exist', () => {
    const p = problems({
      tenants: [
        { name: 'a', model: 'x', rate: 1 },
        { name: 'a', model: 'y', rate: 1 },
      ],
      phases: [
        { atS: 10, rates: { a: 2 } },
        { atS: 5, rates: { ghost: 1 } },
      ],
    });
    expect(p).toEqual([
      '/tenants/1/name: duplicate tenant name "a"',
      "/phases/1/atS: must be greater than the previous phase's (10)",
      '/phases/1/rates/ghost: no tenant is named "ghost"',
    ]);
  });

  it('refuses text that is not JSON, and warns about phases after the end', () => {
    expect(problems('{ tenants: ')[0]).toMatch(/^\/: /);
    const { warnings } = parseWorkload({ ...base, durationS: 20 });
    expect(warnings).toEqual(['phase 0 starts at 30 s, at or after the end of the run (20 s)']);
  });
});

describe('parseWorkload: several Edge TPUs', () => {
  it('keeps the devices, each with its profile (default: the workload device)', () => {
    const { workload } = parseWorkload({
      ...base,
      devices: [{ id: 'usb:0' }, { id: 'usb:1', profile: 'devboard' }],
    });
    expect(workload.devices).toEqual([
      { id: 'usb:0', profile: 'devboard' },
      { id: 'usb:1', profile: 'devboard' },
    ]);
    expect(parseWorkload(base).workload.devices).toBeUndefined();
  });

  it('refuses duplicate ids and malformed devices, with their JSON paths; accepts mixed profiles', () => {
    expect(problems({ ...base, devices: [{ id: 'a' }, { id: 'a' }] })).toEqual([
      '/devices/1/id: duplicate device id "a"',
    ]);
    const mixed = { ...base, devices: [{ id: 'a' }, { id: 'b', profile: 'pcie' }] };
    expect(parseWorkload(mixed).workload.devices).toEqual([
      { id: 'a', profile: 'devboard' },
      { id: 'b', profile: 'pcie' },
    ]);
    expect(problems({ ...base, devices: [] })[0]).toMatch(/^\/devices: /);
    expect(problems({ ...base, devices: [{ id: 'a b' }] })[0]).toMatch(/^\/devices\/0\/id: /);
  });
});

describe('resolvePlacement', () => {
  it('maps tenants to device indices; absent = the first; errors are typed with a reason', () => {
    const devices = [{ id: 'x' }, { id: 'y' }];
    expect(resolvePlacement(devices, [{ name: 'a', device: 'y' }, { name: 'b' }])).toEqual({
      ids: ['x', 'y'],
      deviceOf: [1, 0],
    });
    expect(resolvePlacement(undefined, [{ name: 'a' }])).toEqual({ ids: [''], deviceOf: [0] });
    try {
      resolvePlacement(devices, [{ name: 'a', device: 'z' }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).details?.reason).toBe(DeviceErrorReasons.UNKNOWN_DEVICE);
    }
    expect(() => resolvePlacement([{ id: 'x' }, { id: 'x' }], [])).toThrow(/unique, non-empty device id/);
  });
});

describe('SLO percentiles in a workload', () => {
  const base = { tenants: [{ name: 'a', model: 'm', rate: 5, sloMs: 50 }] };
  it('keeps sloPercentile p95/p99 and leaves it out when not given (p99 is the default the planner applies)', () => {
    const withP95 = parseWorkload({ tenants: [{ ...base.tenants[0], sloPercentile: 'p95' }] }).workload;
    expect(withP95.tenants[0]).toMatchObject({ sloMs: 50, sloPercentile: 'p95' });
    expect(parseWorkload(base).workload.tenants[0]!.sloPercentile).toBeUndefined();
  });
  it('refuses another percentile, and a percentile without sloMs, with the path', () => {
    const bad = (t: object) => () => parseWorkload({ tenants: [t] });
    expect(bad({ name: 'a', model: 'm', rate: 5, sloMs: 50, sloPercentile: 'p90' })).toThrowError(
      /\/tenants\/0\/sloPercentile: must be equal to one of the allowed values \("p95", "p99"\)/,
    );
    expect(bad({ name: 'a', model: 'm', rate: 5, sloPercentile: 'p95' })).toThrowError(
      /\/tenants\/0\/sloPercentile: needs an sloMs/,
    );
    try {
      bad({ name: 'a', model: 'm', rate: 5, sloPercentile: 'p95' })();
    } catch (e) {
      expect((e as { code: string }).code).toBe('SWAPLESS_INVALID_CONFIG');
    }
  });
});
