/**
 * Input checks of the simulator. Everything is checked before the first event, so a bad setup fails at once
 * with an `InvalidArgumentError` in the house form "Expected X for Y but received Z" instead of producing
 * NaN latencies a million requests later. Reconfigurations are checked the same way when they are applied.
 */

import type { SystemSetup, TenantSetup } from '@swapless/contracts';
import {
  expected,
  InvalidArgumentError,
  type QueueDiscipline,
  reorderBudgetMs,
  resolvePlacement,
} from '@swapless/core';
import type { SimOptions } from './types.js';

function fail(what: string, forWhat: string, received: unknown): never {
  throw new InvalidArgumentError(expected(what, forWhat, received), { details: { field: forWhat } });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** A finite number ≥ 0 (or > 0 when `positive`). */
export function checkNumber(value: unknown, forWhat: string, positive = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0))
    fail(positive ? 'a finite number > 0' : 'a finite number ≥ 0', forWhat, value);
  return value;
}

/** An integer in [min, max]. */
export function checkInteger(
  value: unknown,
  forWhat: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    fail(
      max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer between ${min} and ${max}`,
      forWhat,
      value,
    );
  return value;
}

/** Checks one tenant setup; `where` names it in messages (e.g. `tenant "cam"`). */
export function checkTenant(t: unknown, where: string): TenantSetup {
  if (!isObject(t)) fail('a TenantSetup object', where, t);
  if (typeof t.name !== 'string' || t.name.length === 0) fail('a non-empty string', `${where} name`, t.name);
  checkNumber(t.rate, `${where} rate (requests per second)`);
  const n = checkInteger(t.n, `${where} n (ops of the model)`, 1);
  const k = checkInteger(t.k, `${where} k (cut point)`, 0, n);
  const cores = checkInteger(t.cores, `${where} cores`, 0);
  const tpu = t.tpu;
  if (tpu === null) {
    if (k !== 0) fail('a TPU stage (tpu is null only when k = 0)', `${where} tpu at k = ${k}`, tpu);
  } else {
    if (!isObject(tpu)) fail('a TpuStage object or null', `${where} tpu`, tpu);
    if (k === 0) fail('tpu = null (nothing runs on the Edge TPU at k = 0)', `${where} tpu`, tpu);
    if (typeof tpu.token !== 'string' || tpu.token.length === 0)
      fail('a non-empty caching token', `${where} tpu.token`, tpu.token);
    checkNumber(tpu.serviceMs, `${where} tpu.serviceMs`);
    checkNumber(tpu.serviceVarianceMs2, `${where} tpu.serviceVarianceMs2`);
    checkNumber(tpu.reloadMs, `${where} tpu.reloadMs`);
    if (tpu.serviceVarianceMs2 !== 0 && tpu.serviceMs === 0)
      fail('serviceMs > 0 when serviceVarianceMs2 > 0', `${where} tpu.serviceMs`, tpu.serviceMs);
  }
  const cpu = t.cpu;
  if (cpu === null) {
    if (k !== n) fail(`a CPU stage (cpu is null only when k = n = ${n})`, `${where} cpu at k = ${k}`, cpu);
  } else {
    if (!isObject(cpu)) fail('a CpuStage object or null', `${where} cpu`, cpu);
    if (k === n) fail(`cpu = null (nothing runs on the CPU at k = n = ${n})`, `${where} cpu`, cpu);
    if (cpu.mode !== 'mg1' && cpu.mode !== 'mgc') fail("'mg1' or 'mgc'", `${where} cpu.mode`, cpu.mode);
    if (cores < 1) fail('at least 1 core for a CPU stage', `${where} cores`, cores);
    const samples = cpu.samplesMs;
    if (!Array.isArray(samples) || samples.length === 0)
      fail('a non-empty array of service times (ms)', `${where} cpu.samplesMs`, samples);
    samples.forEach((s, i) => {
      checkNumber(s, `${where} cpu.samplesMs[${i}]`);
    });
  }
  if (t.sloMs !== undefined) checkNumber(t.sloMs, `${where} sloMs`, true);
  if (t.device !== undefined && typeof t.device !== 'string')
    fail('a device id (string) or undefined', `${where} device`, t.device);
  return t as unknown as TenantSetup;
}

/** Checks a whole system: tenants, unique names, and Σ cores ≤ the cores available. */
export function checkSystem(system: unknown): SystemSetup {
  if (!isObject(system)) fail('a SystemSetup object', 'the simulated system', system);
  const tenants = system.tenants;
  if (!Array.isArray(tenants) || tenants.length === 0)
    fail('a non-empty array of tenants', 'system.tenants', tenants);
  const total = checkInteger(system.cores, 'system.cores', 0);
  const names = new Set<string>();
  tenants.forEach((t, i) => {
    checkTenant(t, `system.tenants[${i}]`);
    const name = (t as TenantSetup).name;
    if (names.has(name)) fail('unique tenant names', `system.tenants[${i}].name`, name);
    names.add(name);
  });
  checkCores(tenants as TenantSetup[], total, 'system.tenants');
  if (system.devices !== undefined && !Array.isArray(system.devices))
    fail('an array of { id, profile } or undefined', 'system.devices', system.devices);
  // Unknown or duplicate devices: InvalidArgumentError, details.reason unknown-device / duplicate-device.
  resolvePlacement(system.devices as SystemSetup['devices'], tenants as TenantSetup[]);
  reorderBudgetMs(system.discipline as QueueDiscipline | undefined, 'system.discipline');
  return system as unknown as SystemSetup;
}

/** Σ cores of the tenants must fit in the machine's cores. */
export function checkCores(tenants: readonly TenantSetup[], total: number, forWhat: string): void {
  const used = tenants.reduce((s, t) => s + t.cores, 0);
  if (used > total) fail(`at most ${total} cores in total (system.cores)`, `Σ cores of ${forWhat}`, used);
}

/** Checks the options against the system's tenant names; returns the phase start times in ms. */
export function checkOptions(options: unknown, names: ReadonlySet<string>): number[] {
  if (!isObject(options)) fail('an options object', 'simulate options', options);
  const o = options as SimOptions;
  if (o.durationMs !== undefined) checkNumber(o.durationMs, 'options.durationMs', true);
  if (o.requests !== undefined) checkInteger(o.requests, 'options.requests', 1);
  if (o.warmupMs !== undefined) {
    checkNumber(o.warmupMs, 'options.warmupMs');
    if (o.durationMs !== undefined && o.warmupMs >= o.durationMs)
      fail(`a warm-up shorter than durationMs (${o.durationMs})`, 'options.warmupMs', o.warmupMs);
  }
  if (o.seed !== undefined) checkInteger(o.seed, 'options.seed', 0);
  if (o.maxQueue !== undefined) checkInteger(o.maxQueue, 'options.maxQueue', 0);
  if (o.cpuSampling !== undefined && o.cpuSampling !== 'empirical' && o.cpuSampling !== 'smoothed')
    fail("'empirical' or 'smoothed'", 'options.cpuSampling', o.cpuSampling);
  if (o.quantiles !== undefined && o.quantiles !== 'exact' && o.quantiles !== 'sketch')
    fail("'exact' or 'sketch'", 'options.quantiles', o.quantiles);
  if (o.initialToken !== undefined && o.initialToken !== null && typeof o.initialToken !== 'string')
    fail('a caching token or null', 'options.initialToken', o.initialToken);
  if (o.seriesWindowMs !== undefined) checkNumber(o.seriesWindowMs, 'options.seriesWindowMs', true);
  if (o.onTick !== undefined) {
    if (typeof o.onTick !== 'function') fail('a function', 'options.onTick', o.onTick);
    checkNumber(o.tickMs, 'options.tickMs (required with onTick)', true);
  } else if (o.tickMs !== undefined) checkNumber(o.tickMs, 'options.tickMs', true);

  if (o.arrivals !== undefined) {
    if (!isObject(o.arrivals))
      fail('an object of arrival-time arrays by tenant name', 'options.arrivals', o.arrivals);
    for (const [name, times] of Object.entries(o.arrivals)) {
      if (!names.has(name)) fail('the name of a tenant of the system', 'options.arrivals key', name);
      if (!isObject(times) || typeof (times as ArrayLike<number>).length !== 'number')
        fail('an array of arrival times (ms)', `options.arrivals[${JSON.stringify(name)}]`, times);
      const a = times as ArrayLike<number>;
      let last = 0;
      for (let i = 0; i < a.length; i++) {
        const v = checkNumber(a[i], `options.arrivals[${JSON.stringify(name)}][${i}]`);
        if (v < last)
          fail(
            `a time ≥ the previous arrival (${last})`,
            `options.arrivals[${JSON.stringify(name)}][${i}]`,
            v,
          );
        last = v;
      }
    }
  }
  const allTraced = o.arrivals !== undefined && [...names].every((n) => n in (o.arrivals as object));
  if (o.durationMs === undefined && o.requests === undefined && !allTraced)
    fail('durationMs or requests (or trace arrivals for every tenant)', 'simulate options', options);

  const phaseTimes: number[] = [];
  if (o.phases !== undefined) {
    if (!Array.isArray(o.phases)) fail('an array of phases', 'options.phases', o.phases);
    let last = -1;
    o.phases.forEach((p, i) => {
      if (!isObject(p)) fail('a phase object { atS or atMs, rates }', `options.phases[${i}]`, p);
      if ((p.atS === undefined) === (p.atMs === undefined))
        fail('exactly one of atS and atMs', `options.phases[${i}]`, p);
      const at =
        p.atMs !== undefined
          ? checkNumber(p.atMs, `options.phases[${i}].atMs`)
          : checkNumber(p.atS, `options.phases[${i}].atS`) * 1000;
      if (at <= last) fail(`a start after the previous phase's (${last} ms)`, `options.phases[${i}]`, at);
      last = at;
      if (!isObject(p.rates))
        fail('an object of rates by tenant name', `options.phases[${i}].rates`, p.rates);
      for (const [name, r] of Object.entries(p.rates)) {
        if (!names.has(name))
          fail('the name of a tenant of the system', `options.phases[${i}].rates key`, name);
        checkNumber(r, `options.phases[${i}].rates[${JSON.stringify(name)}]`);
      }
      phaseTimes.push(at);
    });
  }

  if (o.schedule !== undefined) {
    if (!Array.isArray(o.schedule)) fail('an array of reconfigurations', 'options.schedule', o.schedule);
    let last = -1;
    o.schedule.forEach((s, i) => {
      if (!isObject(s)) fail('a reconfiguration object { atMs, tenants }', `options.schedule[${i}]`, s);
      const at = checkNumber(s.atMs, `options.schedule[${i}].atMs`);
      if (at < last) fail(`a time ≥ the previous entry's (${last} ms)`, `options.schedule[${i}].atMs`, at);
      last = at;
      checkReconfiguration(s, names, `options.schedule[${i}]`);
    });
  }
  return phaseTimes;
}

/** Checks a reconfiguration's shape and tenant setups (names must exist). */
export function checkReconfiguration(r: unknown, names: ReadonlySet<string>, where: string): void {
  if (!isObject(r) || !Array.isArray(r.tenants))
    fail('a reconfiguration { tenants: TenantSetup[] }', where, r);
  reorderBudgetMs(r.discipline as QueueDiscipline | undefined, `${where}.discipline`);
  (r.tenants as unknown[]).forEach((t, j) => {
    const setup = checkTenant(t, `${where}.tenants[${j}]`);
    if (!names.has(setup.name))
      fail('the name of a tenant of the system', `${where}.tenants[${j}].name`, setup.name);
  });
}
