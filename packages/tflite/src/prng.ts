/**
 * A small, fast, seeded pseudo-random generator for deterministic model generation.
 *
 * The core is a 32-bit multiply–xorshift counter generator (the "mulberry32" construction): one add, two
 * multiplies and three shifts per 32-bit word, full 2^32 period, good enough statistics for weight
 * initialisation and random test inputs. It is not cryptographic. Results depend only on the seed and the
 * sequence of calls, so the same calls with the same seed reproduce byte-identical output on every platform.
 */
export class SeededRandom {
  /** Internal 32-bit state; advances by a fixed odd constant per word. */
  #state: number;

  /**
   * @param seed Any finite number; it is mixed so that nearby seeds (0, 1, 2 …) give unrelated streams.
   */
  constructor(seed: number) {
    // Mix the seed through one round so that small seeds do not start in a low-entropy state.
    let s = (Math.trunc(seed) ^ 0x5bd1e995) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.#state = (s ^ (s >>> 16)) >>> 0;
  }

  /** The next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.nextFloat();
  }

  /** A standard normal sample (Box–Muller; one of the pair is discarded to keep the stream simple). */
  normal(): number {
    const u = 1 - this.nextFloat(); // (0, 1]: log stays finite
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A uniform integer in [lo, hi] (inclusive), for small ranges. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.nextFloat() * (hi - lo + 1));
  }

  /**
   * Fills `out[start, start+count)` with symmetric int8 values in [−127, 127] drawn from a triangular
   * distribution (the sum of two uniform bytes), a cheap bell-like shape that resembles trained weights.
   * Two values per 32-bit word; the hot loop keeps the state in a local so 25 M values take tens of ms.
   */
  fillTriangularInt8(out: Int8Array, start = 0, count = out.length - start): void {
    let state = this.#state;
    const end = start + count;
    let i = start;
    while (i < end) {
      state = (state + 0x6d2b79f5) | 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      t = (t ^ (t >>> 14)) >>> 0;
      // (a + b) ∈ [0, 510]; ·255 >> 9 maps it onto [0, 254]; −127 centres it on [−127, 127].
      out[i++] = ((((t & 0xff) + ((t >>> 8) & 0xff)) * 255) >> 9) - 127;
      if (i < end) out[i++] = (((((t >>> 16) & 0xff) + (t >>> 24)) * 255) >> 9) - 127;
    }
    this.#state = state;
  }

  /** Fills `out` with uniform int8 values in [−128, 127] (e.g. a random model input), four per word. */
  fillUniformInt8(out: Int8Array): void {
    let i = 0;
    const n = out.length;
    while (i < n) {
      const r = this.nextUint32();
      for (let k = 0; k < 4 && i < n; k++) out[i++] = ((r >>> (8 * k)) & 0xff) - 128;
    }
  }
}
