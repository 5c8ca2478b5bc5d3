/**
 * Seeded corruption of .tflite bytes for fuzzing (testing code: exported as `@swapless/tflite/testing`, never
 * from the package index).
 *
 * Blind random bytes mostly hit weight data, which any reader accepts, so most mutations here are aimed:
 * - *structural* ones at the byte positions a tracing read ({@link traceModel}) reports — uoffsets, soffsets,
 *   vtable sizes and entries, vector lengths, index fields — overwritten with values that break the
 *   flatbuffer's invariants (0, −1, 0x7fffffff, the file length, off-by-one, random);
 * - *semantic* ones at the values {@link locateFields} finds — tensor, buffer and opcode indices, builtin codes,
 *   shape dimensions and ranks, tensor types, option scalars, options union types, quantization parameters —
 *   overwritten with values that keep the file well-formed but lie about the graph (another valid tensor
 *   index, a dimension of 0, a different element type…). These are the ones that survive a structural
 *   verifier and reach TFLite's kernels;
 * - *byte-level* ones: bit flips, byte overwrites, truncation, chunk duplication and removal, and splices
 *   between two models, half of them near a structural position rather than inside weight data.
 * Every mutant says what was done (`detail`), so a crash can be reproduced and classified.
 */
import type { TraceKind } from '../flatbuffer-read.js';
import type { TfliteModel } from '../model.js';
import { traceModel } from '../reader.js';
import { type FieldKind, type LocatedField, locateFields, readField, writeField } from './locate.js';

/** Mutations that need no map of the file. */
export type ByteMutationKind =
  | 'truncate'
  | 'bitFlip'
  | 'byteOverwrite'
  | 'chunkDuplicate'
  | 'chunkRemove'
  | 'splice';

/** Every kind of mutation {@link mutate} applies: byte-level, structural (flatbuffer plumbing), semantic. */
export type MutationKind = ByteMutationKind | TraceKind | FieldKind;

/**
 * Relative frequency of each kind. Semantic edits weigh most because they are what reaches the native
 * kernels; structural ones follow because they are what a reader must survive.
 */
const WEIGHTS: Readonly<Record<MutationKind, number>> = {
  truncate: 1,
  bitFlip: 2,
  byteOverwrite: 2,
  chunkDuplicate: 1,
  chunkRemove: 1,
  splice: 1,
  uoffset: 1,
  soffset: 1,
  vtableSize: 1,
  vtableEntry: 1,
  vectorLength: 1.5,
  index: 0.5,
  tensorIndex: 3,
  bufferIndex: 1.5,
  opcodeIndex: 1,
  builtinCode: 1,
  shape: 3,
  rank: 1,
  tensorType: 2,
  optionScalar: 3,
  optionsType: 1,
  quantization: 1.5,
};

/** One mutated model and what was done to it (for reproducing and classifying a failure). */
export interface Mutant {
  readonly bytes: Uint8Array;
  readonly kind: MutationKind;
  /** Byte position of the change (for truncation: the new length). */
  readonly position: number;
  readonly seed: number;
  /** What was changed, in words: `subgraphs[0].tensors[14].shape[1]: 20 → 0`, `bit 3 of byte 812`, … */
  readonly detail: string;
}

/** mulberry32: small, fast, good enough for test-case generation, and identical on every platform. */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Where the structure and the meaningful values of a valid model live. */
export interface StructureMap {
  /** Byte positions of each structural kind, sorted. */
  readonly structural: Readonly<Record<TraceKind, readonly number[]>>;
  /** Semantic values, by kind. */
  readonly fields: Readonly<Record<FieldKind, readonly LocatedField[]>>;
  /** Every structural position, sorted: byte-level edits aim near these half of the time. */
  readonly anchors: readonly number[];
}

const BYTE_KINDS: readonly ByteMutationKind[] = [
  'truncate',
  'bitFlip',
  'byteOverwrite',
  'chunkDuplicate',
  'chunkRemove',
  'splice',
];
const TRACE_KINDS: readonly TraceKind[] = [
  'uoffset',
  'soffset',
  'vtableSize',
  'vtableEntry',
  'vectorLength',
  'index',
];

/** The semantic kinds: edits that keep the file well-formed and so reach TFLite unless the verifier objects. */
export const SEMANTIC_MUTATION_KINDS: readonly FieldKind[] = [
  'tensorIndex',
  'bufferIndex',
  'opcodeIndex',
  'builtinCode',
  'shape',
  'rank',
  'tensorType',
  'optionScalar',
  'optionsType',
  'quantization',
];

/** Every mutation kind, byte-level first, then structural, then semantic. */
export const MUTATION_KINDS: readonly MutationKind[] = [
  ...BYTE_KINDS,
  ...TRACE_KINDS,
  ...SEMANTIC_MUTATION_KINDS,
];

/** Reads `bytes` (which must be a valid model) once and records where its structure and values live. */
export function mapStructure(bytes: Uint8Array): StructureMap {
  const sets = Object.fromEntries(TRACE_KINDS.map((k) => [k, new Set<number>()])) as Record<
    TraceKind,
    Set<number>
  >;
  const model: TfliteModel = traceModel(bytes, (kind, pos) => sets[kind].add(pos));
  const sorted = (s: Iterable<number>) => [...s].sort((a, b) => a - b);
  const structural = Object.fromEntries(TRACE_KINDS.map((k) => [k, sorted(sets[k])])) as Record<
    TraceKind,
    number[]
  >;
  const fields = Object.fromEntries(SEMANTIC_MUTATION_KINDS.map((k) => [k, [] as LocatedField[]])) as Record<
    FieldKind,
    LocatedField[]
  >;
  for (const f of locateFields(bytes, model)) fields[f.kind].push(f);
  const anchors = sorted(new Set(TRACE_KINDS.flatMap((k) => structural[k])));
  return { structural, fields, anchors };
}

/** Options of {@link mutate}. */
export interface MutateOptions {
  /** A second model for splices; without it a splice copies a region of the same file. */
  other?: Uint8Array;
  /** Restrict the kinds drawn (default: all, weighted). */
  kinds?: readonly MutationKind[];
}

const isTraceKind = (k: MutationKind): k is TraceKind => (TRACE_KINDS as readonly string[]).includes(k);
const isFieldKind = (k: MutationKind): k is FieldKind =>
  (SEMANTIC_MUTATION_KINDS as readonly string[]).includes(k);

/**
 * Produces one mutant of `bytes` for `seed`. `structure` (from {@link mapStructure}) aims the structural and
 * semantic mutations; without it only byte-level ones are drawn. The same arguments always give the same
 * mutant.
 */
export function mutate(
  bytes: Uint8Array,
  seed: number,
  structure?: StructureMap,
  options: MutateOptions = {},
): Mutant {
  const rng = createRng(seed);
  const int = (n: number) => Math.floor(rng() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const available = (k: MutationKind): boolean => {
    if (isTraceKind(k)) return structure !== undefined && structure.structural[k].length > 0;
    if (isFieldKind(k)) return structure !== undefined && structure.fields[k].length > 0;
    return true;
  };
  const kinds = (options.kinds ?? MUTATION_KINDS).filter(available);
  const kind = kinds.length === 0 ? 'bitFlip' : weightedPick(kinds, rng);
  const done = (out: Uint8Array, position: number, detail: string): Mutant => ({
    bytes: out,
    kind,
    position,
    seed,
    detail,
  });

  if (isTraceKind(kind)) {
    const out = bytes.slice();
    const at = pick(structure!.structural[kind]);
    return done(out, at, structuralEdit(kind, new DataView(out.buffer), at, rng, pick));
  }
  if (isFieldKind(kind)) {
    const out = bytes.slice();
    const view = new DataView(out.buffer);
    const f = pick(structure!.fields[kind]);
    const old = readField(view, f);
    const value = semanticValue(f, old, rng, pick);
    writeField(view, f, value);
    return done(out, f.pos, `${f.label}: ${show(old)} → ${show(readField(view, f))}`);
  }
  return byteEdit(kind, bytes, rng, structure?.anchors ?? [], options.other, done);
}

function weightedPick(kinds: readonly MutationKind[], rng: () => number): MutationKind {
  let total = 0;
  for (const k of kinds) total += WEIGHTS[k];
  let r = rng() * total;
  for (const k of kinds) {
    r -= WEIGHTS[k];
    if (r < 0) return k;
  }
  return kinds[kinds.length - 1]!;
}

const show = (v: number) => (Number.isInteger(v) ? String(v) : String(Math.fround(v)));

/** Values that break invariants when written over a 32-bit structural field. */
function nastyU32(rng: () => number, length: number, pos: number, old: number): number {
  const choices = [
    0,
    1,
    2,
    3,
    0xffffffff,
    0x7fffffff,
    0x80000000,
    length,
    length - pos,
    length - pos - 1,
    old + 1,
    old - 1,
    old + 4,
    old * 2,
    Math.floor(rng() * 0x1_0000_0000),
    Math.floor(rng() * length),
  ];
  return choices[Math.floor(rng() * choices.length)]! >>> 0;
}

function structuralEdit(
  kind: TraceKind,
  view: DataView,
  at: number,
  rng: () => number,
  pick: <T>(list: readonly T[]) => T,
): string {
  const len = view.byteLength;
  if (kind === 'vtableSize' || kind === 'vtableEntry') {
    const old = view.getUint16(at, true);
    view.setUint16(at, pick([0, 1, 2, 3, 4, 5, 0xffff, 0x8000, old + 2, Math.floor(rng() * 0x10000)]), true);
    return `${kind} at byte ${at}: ${old} → ${view.getUint16(at, true)}`;
  }
  if (kind === 'soffset') {
    const old = view.getInt32(at, true);
    const choices = [
      0,
      -at - 4,
      at + 8,
      -len,
      0x7fffffff,
      -0x80000000,
      old + 2,
      old - 4,
      old + 1,
      -(len - at),
    ];
    view.setInt32(at, pick(choices) | 0, true);
    return `soffset at byte ${at}: ${old} → ${view.getInt32(at, true)}`;
  }
  const old = view.getUint32(at, true);
  const value =
    kind === 'index' && rng() < 0.5
      ? pick([-1, -2, old + 1, old + 1000, 0x7fffffff]) >>> 0
      : nastyU32(rng, len, at, old);
  view.setUint32(at, value, true);
  return `${kind} at byte ${at}: ${old} → ${value}`;
}

/**
 * A replacement for a semantic value. Most choices keep the file well-formed (a *valid* index, a plausible
 * dimension or type) because those are the lies only a semantic verifier can catch.
 */
function semanticValue(
  f: LocatedField,
  old: number,
  rng: () => number,
  pick: <T>(list: readonly T[]) => T,
): number {
  const int = (n: number) => Math.floor(rng() * n);
  const n = f.count ?? 0;
  switch (f.kind) {
    case 'tensorIndex':
      return pick([int(n), int(n), int(n), int(n), -1, n, n + 1, old + 1, old - 1, 0x7fffffff, -2]);
    case 'bufferIndex':
      return pick([0, 0, int(n), int(n), int(n), n, old + 1, 0xffffffff]);
    case 'opcodeIndex':
      return pick([int(n), int(n), int(n), int(n), n, old + 1, 0xffffffff]);
    case 'builtinCode':
      return f.storage === 'int8'
        ? pick([int(128), int(128), int(128), -1, 127, old + 1])
        : pick([int(162), int(162), int(162), 0x7fffffff, -1, 127, 300]);
    case 'shape':
      return pick([0, 1, old - 1, old + 1, old * 2, old >> 1, -1, 0x7fffffff, 1 << 16, 1 << 24, int(300)]);
    case 'rank':
      return pick([0, old - 1, old + 1, old + 2, 1, 4, 8]);
    case 'tensorType':
      return pick([int(18), int(18), int(18), 0, 1, 2, 3, 4, 7, 9, 18, -1]);
    case 'optionsType':
      return pick([1 + int(127), 1 + int(127), 0, 255, 1, 2, 5, 8, 9, 10, 17, 27]);
    case 'optionScalar':
      if (f.storage === 'float32') return pick([0, -1, 1e30, Number.NaN, Number.POSITIVE_INFINITY, -old]);
      return pick([
        0,
        1,
        -1,
        2,
        3,
        4,
        5,
        6,
        old + 1,
        old - 1,
        0x7fffffff,
        -0x80000000,
        255,
        128,
        int(16) - 4,
      ]);
    case 'quantization':
      if (f.storage === 'float32') return pick([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e-30, 1e30]);
      if (f.storage === 'int64') return pick([-129, 128, 256, 2 ** 40, -1, old + 1]);
      return pick([-1, 0, 1, 2, 3, 4, 100]);
  }
}

/** A chunk length: mostly small, occasionally up to 4 KiB, never more than an eighth of the file. */
function chunkLength(rng: () => number, len: number): number {
  return Math.max(1, Math.min(Math.floor(2 ** (rng() * 12)), Math.max(1, len >> 3)));
}

function byteEdit(
  kind: MutationKind,
  bytes: Uint8Array,
  rng: () => number,
  anchors: readonly number[],
  other: Uint8Array | undefined,
  done: (out: Uint8Array, position: number, detail: string) => Mutant,
): Mutant {
  const len = bytes.length;
  const int = (n: number) => Math.floor(rng() * n);
  // Half of the positions land within 64 bytes of a structural position (tables, vtables, vectors), where a
  // change means something, rather than in weight data, which is most of a file.
  const position = (): number => {
    if (anchors.length > 0 && rng() < 0.5) {
      const a = anchors[int(anchors.length)]! + int(129) - 64;
      return Math.min(Math.max(a, 0), len - 1);
    }
    return int(len);
  };
  switch (kind) {
    case 'truncate': {
      const at = rng() < 0.3 ? len - 1 - int(Math.min(len, 64)) : int(len);
      return done(bytes.slice(0, at), at, `truncated to ${at} of ${len} bytes`);
    }
    case 'byteOverwrite': {
      const out = bytes.slice();
      const at = position();
      const n = 1 + int(16);
      const fill = rng() < 0.3 ? (rng() < 0.5 ? 0 : 0xff) : -1;
      for (let i = at; i < Math.min(len, at + n); i++) out[i] = fill >= 0 ? fill : int(256);
      return done(out, at, `${n} bytes at ${at} overwritten with ${fill >= 0 ? fill : 'random values'}`);
    }
    case 'chunkDuplicate': {
      const n = chunkLength(rng, len);
      const from = Math.min(position(), len - n);
      const to = position();
      const out = new Uint8Array(len + n);
      out.set(bytes.subarray(0, to), 0);
      out.set(bytes.subarray(from, from + n), to);
      out.set(bytes.subarray(to), to + n);
      return done(out, to, `bytes [${from}, ${from + n}) duplicated at ${to}`);
    }
    case 'chunkRemove': {
      const n = chunkLength(rng, len);
      const at = Math.min(position(), len - n);
      const out = new Uint8Array(len - n);
      out.set(bytes.subarray(0, at), 0);
      out.set(bytes.subarray(at + n), at);
      return done(out, at, `bytes [${at}, ${at + n}) removed`);
    }
    case 'splice': {
      const src = other ?? bytes;
      const what = other === undefined ? 'the same file' : 'the other model';
      const at = position();
      if (rng() < 0.5) {
        // Head of this file, tail of the other: two valid prefixes/suffixes that disagree about offsets.
        const from = int(src.length);
        const out = new Uint8Array(at + src.length - from);
        out.set(bytes.subarray(0, at), 0);
        out.set(src.subarray(from), at);
        return done(out, at, `bytes [0, ${at}) followed by bytes [${from}, ${src.length}) of ${what}`);
      }
      // A region of the other file at the same length: its tables land where this file's tables were.
      const out = bytes.slice();
      const n = chunkLength(rng, len);
      const from = int(Math.max(1, src.length - n));
      out.set(src.subarray(from, from + Math.min(n, len - at)), at);
      return done(out, at, `bytes [${at}, ${at + n}) replaced by bytes [${from}, ${from + n}) of ${what}`);
    }
    default: {
      // bitFlip (also the fallback when a map has no position of the drawn kind).
      const out = bytes.slice();
      const at = position();
      const bit = int(8);
      out[at]! ^= 1 << bit;
      return done(out, at, `bit ${bit} of byte ${at} flipped`);
    }
  }
}
