/** Readers of command-line flag values shared by the applications: bad values are UsageError (exit status 2). */
import { expected } from './describe.js';
import { UsageError } from './errors.js';

/** Reads an integer flag within [min, max]; undefined stays undefined. */
export function intFlag(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(expected(`an integer from ${min} to ${max}`, `--${name}`, raw));
  }
  return n;
}

/** Reads a flag that must be one of `choices`; undefined stays undefined. */
export function choiceFlag<T extends string>(
  name: string,
  raw: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(expected(`one of ${choices.join(', ')}`, `--${name}`, raw));
  }
  return raw as T;
}
