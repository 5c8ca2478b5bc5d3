/**
 * Sizes as the Edge TPU Compiler prints them: a decimal number glued to a unit, e.g. "4.23MiB", "604.50KiB",
 * "0.00B". The compiler rounds to two decimals, so a parsed size is exact only to ±0.005 of its unit.
 */
import { expected, InvalidArgumentError } from '@swapless/core';

/** Bytes per unit. Binary units are what the compiler prints; SI units are accepted for hand-written logs. */
const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
};

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([kmg]i?b|b)\s*$/i;

/**
 * Parses a size printed by the Edge TPU Compiler ("4.23MiB", "1.75KiB", "0.00B", also "12 KB") into a whole
 * number of bytes (rounded to the nearest byte).
 *
 * @throws InvalidArgumentError when the text is not a number followed by B, KiB, MiB, GiB, KB, MB or GB.
 */
export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text);
  if (match === null) {
    throw new InvalidArgumentError(
      expected('a size such as "4.23MiB", "1.75KiB" or "0.00B"', 'an Edge TPU Compiler size', text),
    );
  }
  const value = Number(match[1]);
  const unit = UNIT_BYTES[match[2]!.toLowerCase()]!;
  return Math.round(value * unit);
}

/** Formats bytes the way the compiler does (two decimals, binary units): 0 → "0.00B", 4435968 → "4.23MiB". */
export function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)}GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(2)}MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(2)}KiB`;
  return `${bytes.toFixed(2)}B`;
}
