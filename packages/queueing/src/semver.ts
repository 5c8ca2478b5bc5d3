/**
 * Semver checks for a plugin's `apiVersion` against {@link API_VERSION}, by the `semver` package (npm's own
 * implementation): exact versions, comparators, caret, tilde, x-ranges, hyphen ranges, intersections and `||`
 * unions, with npm's meaning for partial versions and pre-releases.
 */
import semver from 'semver';

/** True when `text` is a valid semver version (`MAJOR.MINOR.PATCH[-pre][+build]`, an optional leading `v`). */
export function isValidVersion(text: string): boolean {
  return semver.valid(text.trim()) !== null;
}

/** True when `range` is a valid semver range (the empty range is `*`). */
export function isValidRange(range: string): boolean {
  return semver.validRange(range) !== null;
}

/**
 * True when `version` satisfies `range`. Returns false (never throws) for an invalid version or range: check
 * with {@link isValidRange} first to tell "out of range" from "not a range".
 */
export function satisfies(version: string, range: string): boolean {
  return isValidVersion(version) && semver.satisfies(version.trim(), range);
}
