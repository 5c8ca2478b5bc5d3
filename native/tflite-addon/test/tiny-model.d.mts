/** Encodes `y = x + c` with x, y float32 [1, n] and c the constant 1, 2, 3, … n (hand-encoded .tflite). */
export declare function tinyAddModel(n?: number): Uint8Array;
