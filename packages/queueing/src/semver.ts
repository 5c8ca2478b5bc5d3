/**
 * A small semver range check, enough for a plugin's `apiVersion` against {@link API_VERSION}: exact versions
 * (`1.2.3`, `=1.2.3`), comparators (`>`, `>=`, `<`, `<=`), caret (`^`), tilde (`~`), x-ranges (`1.x`, `1.2.*`,
 * `1`, `*`, empty), hyphen ranges (`1.0.0 - 1.4`), space-separated intersections and `||` unions — with npm's
 * meaning for partial versions (`>1.2` = `>=1.3.0`, `<=1` = `<2.0.0`, `^0.2` = `>=0.2.0 <0.3.0`).
 *
 * Pre-release versions compare by npm's precedence, but the npm rule that a pre-release only satisfies a range
 * naming the same `MAJOR.MINOR.PATCH` is not implemented: the host API version is always a release.
 */

type Version = readonly [number, number, number, readonly string[]];
type Op = '<' | '<=' | '>' | '>=' | '=';
type Comparator = readonly [Op, Version];

const VERSION = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
const PARTIAL =
  /^v?(\*|x|X|0|[1-9]\d*)(?:\.(\*|x|X|0|[1-9]\d*)(?:\.(\*|x|X|0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?)?)?$/;

/** Parses a full `MAJOR.MINOR.PATCH[-pre][+build]` version; undefined when it is not one. */
function parseVersion(text: string): Version | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ? m[4].split('.') : []];
}

/** True when `text` is a valid semver version. */
export function isValidVersion(text: string): boolean {
  return parseVersion(text) !== undefined;
}

function comparePre(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return a.length === 0 ? (b.length === 0 ? 0 : 1) : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) {
      if (Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1;
    } else if (xn !== yn) {
      return xn ? -1 : 1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
  return comparePre(a[3], b[3]);
}

const isX = (s: string | undefined): boolean => s === undefined || s === '*' || s === 'x' || s === 'X';

/** A partial version: numbers present, or undefined from the first wildcard/missing part on. */
type Partial = { major?: number; minor?: number; patch?: number; pre: readonly string[] };

function parsePartial(text: string): Partial | undefined {
  const m = PARTIAL.exec(text);
  if (!m) return undefined;
  const p: Partial = { pre: [] };
  if (isX(m[1])) return p;
  p.major = Number(m[1]);
  if (isX(m[2])) return p;
  p.minor = Number(m[2]);
  if (isX(m[3])) return p;
  p.patch = Number(m[3]);
  p.pre = m[4] ? m[4].split('.') : [];
  return p;
}

const v = (major: number, minor: number, patch: number, pre: readonly string[] = []): Version => [
  major,
  minor,
  patch,
  pre,
];
/** The smallest version above every version matching the partial's given parts (`1.2` → 1.3.0). */
function upperOf(p: Partial): Version {
  if (p.minor === undefined) return v((p.major ?? 0) + 1, 0, 0);
  return v(p.major!, p.minor + 1, 0);
}
const lowerOf = (p: Partial): Version => v(p.major ?? 0, p.minor ?? 0, p.patch ?? 0, p.pre);
const ANY: Comparator[] = [['>=', v(0, 0, 0)]];

function desugar(token: string, op: string): Comparator[] | undefined {
  const p = parsePartial(token);
  if (!p) return undefined;
  const full = p.patch !== undefined;
  if (op === '^') {
    if (p.major === undefined) return ANY;
    const lo = lowerOf(p);
    if (p.major > 0 || p.minor === undefined)
      return [
        ['>=', lo],
        ['<', v(p.major + 1, 0, 0)],
      ];
    if (p.minor > 0 || p.patch === undefined)
      return [
        ['>=', lo],
        ['<', v(0, p.minor + 1, 0)],
      ];
    return [
      ['>=', lo],
      ['<', v(0, 0, p.patch + 1)],
    ];
  }
  if (op === '~') {
    if (p.major === undefined) return ANY;
    return [
      ['>=', lowerOf(p)],
      ['<', upperOf(p.minor === undefined ? p : { major: p.major, minor: p.minor, pre: [] })],
    ];
  }
  if (op === '' || op === '=') {
    if (p.major === undefined) return ANY;
    if (full) return [['=', lowerOf(p)]];
    return [
      ['>=', lowerOf(p)],
      ['<', upperOf(p)],
    ];
  }
  if (p.major === undefined) return op === '<' || op === '>' ? [['<', v(0, 0, 0)]] : ANY;
  if (full) return [[op as Op, lowerOf(p)]];
  switch (op) {
    case '>=':
      return [['>=', lowerOf(p)]];
    case '>':
      return [['>=', upperOf(p)]];
    case '<':
      return [['<', lowerOf(p)]];
    case '<=':
      return [['<', upperOf(p)]];
    default:
      return undefined;
  }
}

function parseSet(text: string): Comparator[] | undefined {
  const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(text);
  if (hyphen) {
    const lo = parsePartial(hyphen[1]!);
    const hi = parsePartial(hyphen[2]!);
    if (!lo || !hi) return undefined;
    const upper: Comparator[] =
      hi.major === undefined ? [] : hi.patch !== undefined ? [['<=', lowerOf(hi)]] : [['<', upperOf(hi)]];
    return [['>=', lowerOf(lo)], ...upper];
  }
  // Join an operator separated from its version by spaces (">= 1.2.3") before splitting on whitespace.
  const tokens = text
    .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (tokens.length === 0) return ANY;
  const out: Comparator[] = [];
  for (const t of tokens) {
    const m = /^(>=|<=|>|<|=|\^|~>?|)(.*)$/.exec(t)!;
    const op = m[1] === '~>' ? '~' : m[1]!;
    const c = desugar(m[2]!, op);
    if (!c) return undefined;
    out.push(...c);
  }
  return out;
}

function holds(c: Comparator, version: Version): boolean {
  const d = compare(version, c[1]);
  switch (c[0]) {
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>':
      return d > 0;
    case '>=':
      return d >= 0;
    default:
      return d === 0;
  }
}

/** True when `range` is a range this module understands. */
export function isValidRange(range: string): boolean {
  return range.split('||').every((set) => parseSet(set) !== undefined);
}

/**
 * True when `version` satisfies `range`. Returns false (never throws) for an invalid version or range: check
 * with {@link isValidRange} first to tell "out of range" from "not a range".
 */
export function satisfies(version: string, range: string): boolean {
  const ver = parseVersion(version);
  if (!ver) return false;
  const sets = range.split('||').map(parseSet);
  if (sets.some((s) => s === undefined)) return false;
  return sets.some((set) => set!.every((c) => holds(c, ver)));
}
