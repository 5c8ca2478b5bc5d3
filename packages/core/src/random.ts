/**
 * The project's seeded pseudo-random generators, in one home. There are two algorithms on purpose, each pinned by
 * what depends on its exact stream:
 * - {@link SeededRandom} (mulberry32, 32-bit state): the weights of every generated model (the zoo's bytes and
 *   hashes, cached on disk), the emulator's timing noise, seeded test inputs and search restarts. Changing it
 *   would change every generated model.
 * - {@link Xoshiro128} (xoshiro128**, 128-bit state, independent numbered streams, 53-bit uniforms, gamma and
 *   exponential draws): the discrete-event simulator, whose results are pinned by regression tests and by
 *   `swapless plan` reports. mulberry32 has neither the streams nor the period a long simulation wants.
 * Neither is cryptographic. Results depend only on the seed (and stream) and the sequence of calls, so the same
 * calls reproduce the same numbers on every Node version and platform.
 */

/**
 * A 32-bit bit mixer (the finaliser of MurmurHash3, splitmix32's output step): a well-mixed unsigned 32-bit word
 * for consecutive inputs. Used only for seeding.
 */
function mix32(state: number): number {
  let z = state | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A small, fast, seeded pseudo-random generator for deterministic model generation, test inputs and noise.
 *
 * The core is a 32-bit multiply–xorshift counter generator (the "mulberry32" construction): one add, two
 * multiplies and three shifts per 32-bit word, full 2^32 period, good enough statistics for weight
 * initialisation and random test inputs.
 */
export class SeededRandom {
  /** Internal 32-bit state; advances by a fixed odd constant per word. */
  #state: number;

  /**
   * @param seed Any finite number; it is mixed so that nearby seeds (0, 1, 2 …) give unrelated streams.
   */
  constructor(seed: number) {
    // Mix the seed through one round so that small seeds do not start in a low-entropy state.
    this.#state = mix32(Math.trunc(seed) ^ 0x5bd1e995);
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

const TWO_POW_32 = 4294967296;
const TWO_POW_M53 = 1 / 9007199254740992;

/**
 * xoshiro128**: 128 bits of state, period 2^128 − 1, fast with 32-bit integer arithmetic (`Math.imul`), which
 * is what V8 does best. Every simulator stream (a tenant's arrivals, its CPU draws, the TPU noise) is its own
 * generator, so changing one tenant's CPU samples leaves every arrival time unchanged (common random numbers
 * when two configurations are compared under one seed).
 */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Spare normal deviate of the polar method (NaN when none): it produces two per round. */
  private spare = Number.NaN;

  /**
   * @param seed any safe integer; its high and low 32-bit halves both count.
   * @param stream independent stream number: the same seed with another stream gives an unrelated sequence.
   */
  constructor(seed: number, stream = 0) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    // Each state word comes from splitmix32 over a distinct counter that mixes seed halves and stream, so
    // nearby seeds and streams start far apart; an all-zero state (a fixed point) is replaced.
    let x = mix32(lo ^ Math.imul(stream + 1, 0x9e3779b9)) ^ mix32(hi + 0x632be5ab);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      words.push(mix32(x ^ Math.imul(stream, 0x7f4a7c15)) | 0);
    }
    this.s0 = words[0]!;
    this.s1 = words[1]!;
    this.s2 = words[2]!;
    this.s3 = words[3]!;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with the given raw state (for checking against the reference implementation). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Xoshiro128 {
    const g = new Xoshiro128(0);
    g.s0 = s0 | 0;
    g.s1 = s1 | 0;
    g.s2 = s2 | 0;
    g.s3 = s3 | 0;
    return g;
  }

  /** Next 32-bit output as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits (two outputs): exponential tails are not cut at 2^−32. */
  next(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) * TWO_POW_M53;
  }

  /** Uniform in [0, 1) from one 32-bit output: enough to pick one of a few thousand samples. */
  nextFast(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Exponential with mean 1: −ln(U) with U in (0, 1], so never infinite. */
  exponential(): number {
    return -Math.log(1 - this.next());
  }

  /** Standard normal deviate (Marsaglia's polar method). */
  normal(): number {
    const spare = this.spare;
    if (!Number.isNaN(spare)) {
      this.spare = Number.NaN;
      return spare;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.next() - 1;
      v = 2 * this.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }

  /**
   * Gamma with the given shape and scale 1 (Marsaglia & Tsang 2000; shape < 1 by the boost
   * Gamma(shape) = Gamma(shape + 1) · U^(1/shape)).
   */
  gamma(shape: number): number {
    if (shape < 1) {
      const g = this.gamma(shape + 1);
      return g * (1 - this.next()) ** (1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  }
}
