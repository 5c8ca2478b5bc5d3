/**
 * Sparse tensors for the semantic verifier (internal). DENSIFY (and TFLite's sparse-to-dense converter behind
 * it) walks a tensor's SparsityParameters without checking them: a traversal order that is not a permutation,
 * dimension metadata of the wrong count, segments that do not grow, or indices beyond a dimension make it read
 * and write out of bounds, and a garbage dense size makes it loop for minutes. Fuzzing MediaPipe's sparse face
 * detector found each of these; this module decodes the parameters of a file `readModel` has already verified
 * and checks that they describe exactly the tensor's shape and the values its buffer holds.
 */
import { FlatBufferReader, type Table } from './flatbuffer-read.js';
import type { Tensor, TfliteModel } from './model.js';

/** One DimensionMetadata: DENSE (format 0) with a size, or SPARSE_CSR (format 1) with segments and indices. */
export interface SparseDimension {
  format: number;
  denseSize: number;
  segments: Int32Array;
  indices: Int32Array;
}

/** A tensor's SparsityParameters, decoded. */
export interface SparsitySpec {
  traversalOrder: number[];
  blockMap: number[];
  dimMetadata: SparseDimension[];
}

/** Sparse tensors by `subgraph:tensor`. */
export type SparsityLookup = ReadonlyMap<string, SparsitySpec>;

/** The key of a tensor in a {@link SparsityLookup}. */
export const sparseKey = (subgraph: number, tensor: number) => `${subgraph}:${tensor}`;

/** Does the model have a sparse tensor? (Marked by the reader, or carried as a `sparsity` field.) */
function hasSparse(model: TfliteModel): boolean {
  return model.subgraphs.some((sg) =>
    sg.tensors.some(
      (t: Tensor & { sparsity?: unknown }) =>
        t.sparsity !== undefined || t.unsupported?.some((r) => r.includes('SparsityParameters')) === true,
    ),
  );
}

/** Index vector of a DimensionMetadata union (Int32Vector 1, Uint16Vector 2, Uint8Vector 3), empty when absent. */
function indexVector(r: FlatBufferReader, dm: Table, typeId: number, id: number, name: string): Int32Array {
  const type = dm.uint8(typeId, `${name}_type`, 0);
  const v = dm.child(id, name);
  const at = v === undefined || type === 0 ? 0 : v.target(0, 'values');
  if (at === 0) return new Int32Array(0);
  const size = type === 1 ? 4 : type === 2 ? 2 : 1;
  const n = r.vectorLength(at, size, `${v!.path}.values`);
  const out = new Int32Array(n);
  // Plain loops: these vectors hold one entry per stored value, thousands per tensor.
  if (size === 4) for (let i = 0; i < n; i++) out[i] = r.i32(at + 4 + 4 * i);
  else if (size === 2) for (let i = 0; i < n; i++) out[i] = r.u16(at + 4 + 2 * i);
  else out.set(r.bytes.subarray(at + 4, at + 4 + n));
  return out;
}

/**
 * Decodes the SparsityParameters of every sparse tensor of `bytes`, a file `readModel` accepted as `model`;
 * undefined when the model has none (the common case costs one scan of the tensors, no decoding).
 */
export function readSparsity(bytes: Uint8Array, model: TfliteModel): SparsityLookup | undefined {
  if (!hasSparse(model)) return undefined;
  const r = new FlatBufferReader(bytes, {
    maxTables: 1_000_000,
    maxElements: 8 * bytes.length + 1_000_000,
    maxDepth: 16,
  });
  const out = new Map<string, SparsitySpec>();
  const root = r.table(r.deref(0, 'root offset'), 'model', 0);
  (root.tables(2, 'subgraphs') ?? []).forEach((sg, s) => {
    (sg.tables(0, 'tensors') ?? []).forEach((t, i) => {
      const sp = t.child(6, 'sparsity');
      if (sp === undefined) return;
      out.set(sparseKey(s, i), {
        traversalOrder: sp.int32s(0, 'traversal_order') ?? [],
        blockMap: sp.int32s(1, 'block_map') ?? [],
        dimMetadata: (sp.tables(2, 'dim_metadata') ?? []).map((dm) => ({
          format: dm.int8(0, 'format', 0),
          denseSize: dm.int32(1, 'dense_size', 0),
          segments: indexVector(r, dm, 2, 3, 'array_segments'),
          indices: indexVector(r, dm, 4, 5, 'array_indices'),
        })),
      });
    });
  });
  return out;
}

/** Is `list` a permutation of [from, from + list.length)? */
function isPermutation(list: readonly number[], from: number): boolean {
  const seen = new Set(list);
  return (
    seen.size === list.length && list.every((v) => Number.isInteger(v) && v >= from && v < from + list.length)
  );
}

/**
 * Checks that `spec` describes a tensor of `shape` whose buffer holds `values` elements, the way TFLite's
 * sparse-to-dense converter walks it. Returns undefined when it does, else [what was expected, what the file
 * holds] for the caller's error.
 */
export function checkSparsity(
  spec: SparsitySpec,
  shape: readonly number[],
  values: number,
): [string, string] | undefined {
  const rank = shape.length;
  const { traversalOrder: order, blockMap, dimMetadata: dims } = spec;
  const n = rank + blockMap.length;
  if (order.length !== n || dims.length !== n) {
    return [
      `${n} traversal dimensions and ${n} dimension metadata (rank ${rank} + ${blockMap.length} block dimensions)`,
      `${order.length} and ${dims.length}`,
    ];
  }
  if (!isPermutation(order.slice(0, rank), 0) || !isPermutation(order.slice(rank), rank)) {
    return [
      'a traversal order that permutes the dimensions, then the block dimensions',
      `[${order.join(',')}]`,
    ];
  }
  if (
    !blockMap.every((d, i) => Number.isInteger(d) && d >= 0 && d < rank && (i === 0 || d > blockMap[i - 1]!))
  ) {
    return [`block dimensions in increasing order within [0, ${rank})`, `[${blockMap.join(',')}]`];
  }
  const blockSize = blockMap.map((_, b) => dims[order[rank + b]!]!.denseSize);
  const blocked = [...shape];
  for (let b = 0; b < blockMap.length; b++) {
    const d = blockMap[b]!;
    if (!(blockSize[b]! >= 1 && shape[d]! % blockSize[b]! === 0)) {
      return [`a block size dividing dimension ${d} (${shape[d]})`, `${blockSize[b]}`];
    }
    blocked[d] = shape[d]! / blockSize[b]!;
  }
  // Walk the levels as the converter does: `count` entries reach each level.
  let count = 1;
  for (let level = 0; level < n; level++) {
    const o = order[level]!;
    const size = level < rank ? blocked[o]! : blockSize[o - rank]!;
    const dm = dims[level]!;
    if (dm.format === 0) {
      if (dm.denseSize !== size)
        return [`dense size ${size} for traversal level ${level}`, `${dm.denseSize}`];
      count *= size;
      continue;
    }
    if (dm.format !== 1)
      return [`format DENSE (0) or SPARSE_CSR (1) at traversal level ${level}`, `${dm.format}`];
    const { segments, indices } = dm;
    if (segments.length !== count + 1 || segments[0] !== 0 || segments[count] !== indices.length) {
      return [
        `${count + 1} segments from 0 to ${indices.length} at traversal level ${level}`,
        `${segments.length} segments ending at ${segments[segments.length - 1]}`,
      ];
    }
    for (let i = 1; i <= count; i++) {
      if (segments[i]! < segments[i - 1]!)
        return [
          `non-decreasing segments at traversal level ${level}`,
          `${segments[i - 1]} then ${segments[i]}`,
        ];
    }
    for (const v of indices) {
      if (!(v >= 0 && v < size)) return [`indices in [0, ${size}) at traversal level ${level}`, `${v}`];
    }
    count = indices.length;
  }
  if (count !== values) return [`${count} stored values (what the sparsity parameters address)`, `${values}`];
  return undefined;
}
