/**
 * Seeded corruption of .tflite bytes for fuzz tests (internal: not exported from the package index).
 *
 * Blind random bytes mostly hit weight data, which any reader accepts, so most mutations here are aimed: a
 * tracing read of the valid model ({@link traceModel}) lists the byte positions of uoffsets, soffsets, vtable
 * sizes and entries, vector lengths and index fields, and the mutator overwrites those with values chosen to
 * break invariants (0, −1, 0x7fffffff, the file length, off-by-one, random).
 */
import type { TraceKind } from '../flatbuffer-read.js';
import { traceModel } from '../reader.js';

/** The kinds of mutation {@link mutate} applies. */
export type MutationKind =
  | 'truncate'
  | 'randomBytes'
  | 'bitFlip'
  | 'uoffset'
  | 'soffset'
  | 'vtableSize'
  | 'vtableEntry'
  | 'vectorLength'
  | 'index';

/** One mutated model and what was done to it (for reproducing a failure). */
export interface Mutant {
  readonly bytes: Uint8Array;
  readonly kind: MutationKind;
  readonly position: number;
  readonly seed: number;
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

/** Structural positions of a valid model, by kind. */
export type StructureMap = Readonly<
  Record<Exclude<MutationKind, 'truncate' | 'randomBytes' | 'bitFlip'>, number[]>
>;

/** Reads `bytes` (which must be a valid model) once and records where its structure lives. */
export function mapStructure(bytes: Uint8Array): StructureMap {
  const map: Record<TraceKind, Set<number>> = {
    uoffset: new Set(),
    soffset: new Set(),
    vtableSize: new Set(),
    vtableEntry: new Set(),
    vectorLength: new Set(),
    index: new Set(),
  };
  traceModel(bytes, (kind, pos) => map[kind].add(pos));
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  return {
    uoffset: sorted(map.uoffset),
    soffset: sorted(map.soffset),
    vtableSize: sorted(map.vtableSize),
    vtableEntry: sorted(map.vtableEntry),
    vectorLength: sorted(map.vectorLength),
    index: sorted(map.index),
  };
}

const KINDS: readonly MutationKind[] = [
  'truncate',
  'randomBytes',
  'bitFlip',
  'uoffset',
  'uoffset',
  'soffset',
  'vtableSize',
  'vtableEntry',
  'vtableEntry',
  'vectorLength',
  'vectorLength',
  'index',
  'index',
];

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

/**
 * Produces one mutant of `bytes` for `seed`. `structure` (from {@link mapStructure}) aims the structural
 * mutations; without it only truncation, random bytes and bit flips are used.
 */
export function mutate(bytes: Uint8Array, seed: number, structure?: StructureMap): Mutant {
  const rng = createRng(seed);
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
  let kind = pick(structure ? KINDS : KINDS.slice(0, 3));
  if (kind !== 'truncate' && kind !== 'randomBytes' && kind !== 'bitFlip' && structure![kind].length === 0) {
    kind = 'bitFlip';
  }
  const len = out.length;
  switch (kind) {
    case 'truncate': {
      const at = Math.floor(rng() * len);
      return { bytes: out.subarray(0, at), kind, position: at, seed };
    }
    case 'randomBytes': {
      const at = Math.floor(rng() * len);
      const n = 1 + Math.floor(rng() * 16);
      for (let i = at; i < Math.min(len, at + n); i++) out[i] = Math.floor(rng() * 256);
      return { bytes: out, kind, position: at, seed };
    }
    case 'bitFlip': {
      // Bias half of the flips towards the first 4 KiB, where the root, vtables and small tables of the graph
      // usually live, rather than deep inside weight data.
      const at = rng() < 0.5 ? Math.floor(rng() * Math.min(len, 4096)) : Math.floor(rng() * len);
      out[at]! ^= 1 << Math.floor(rng() * 8);
      return { bytes: out, kind, position: at, seed };
    }
    case 'vtableSize':
    case 'vtableEntry': {
      const at = pick(structure![kind]);
      const choices = [
        0,
        1,
        2,
        3,
        4,
        5,
        0xffff,
        0x8000,
        view.getUint16(at, true) + 2,
        Math.floor(rng() * 0x10000),
      ];
      view.setUint16(at, pick(choices), true);
      return { bytes: out, kind, position: at, seed };
    }
    case 'soffset': {
      const at = pick(structure!.soffset);
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
      return { bytes: out, kind, position: at, seed };
    }
    default: {
      const at = pick(structure![kind]);
      const old = view.getUint32(at, true);
      const value =
        kind === 'index' && rng() < 0.5
          ? pick([-1, -2, old + 1, old + 1000, 0x7fffffff]) >>> 0
          : nastyU32(rng, len, at, old);
      view.setUint32(at, value, true);
      return { bytes: out, kind, position: at, seed };
    }
  }
}
