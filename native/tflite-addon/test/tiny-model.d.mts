/** Bytes of the tiny model y = x + c (x, y float32 [1, n], c = 1..n) for n ∈ {2, 4, 4096}; see tiny-model.mjs. */
export declare function tinyAddModel(n?: 2 | 4 | 4096): Uint8Array;
