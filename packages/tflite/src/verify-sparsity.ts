/**
 * Sparse tensors for the semantic verifier (internal). DENSIFY (and TFLite's sparse-to-dense converter behind
 * it) walks a tensor's SparsityParameters without checking them: a traversal order that is not a permutation,
 * dimension metadata of the wrong count, segments that do not grow, or indices beyond a dimension make it read
 * and write out of bounds, and a garbage dense size makes it loop for minutes. Fuzzing MediaPipe's sparse face
 * detector found each of these; this module checks that a tensor's parameters (`tensor.sparsity`, decoded by the
 * reader) describe exactly the tensor's shape and the values its buffer holds.
 */
import type { SparsityParameters } from './model.js';

/** Is `list` a permutation of [from, from + list.length)? */
function isPermutation(list: readonly number[], from: number): boolean {
  const seen = new Set(list);
  return (
    seen.size === list.length && list.every((v) => Number.isInteger(v) && v >= from && v < from + list.length)
  );
}

/** An absent list or index vector, checked as an empty one. */
const NONE: readonly number[] = [];

/**
 * Checks that `spec` describes a tensor of `shape` whose buffer holds `values` elements, the way TFLite's
 * sparse-to-dense converter walks it. Absent lists and index vectors count as empty. Returns undefined when it
 * does, else [what was expected, what the file holds] for the caller's error.
 */
export function checkSparsity(
  spec: SparsityParameters,
  shape: readonly number[],
  values: number,
): [string, string] | undefined {
  const rank = shape.length;
  const order = spec.traversalOrder ?? NONE;
  const blockMap = spec.blockMap ?? NONE;
  const dims = spec.dimMetadata ?? [];
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
    const segments = dm.arraySegments?.values ?? NONE;
    const indices = dm.arrayIndices?.values ?? NONE;
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
