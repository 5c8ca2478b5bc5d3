/**
 * A tenant model's variants as this runtime uses them. They are made by the one home of variants,
 * `@swapless/compiler`'s `VariantStore` (split once per (model, k), the head's emulated compile report once per
 * profile); an entry pins the ones its tenants use, so the store's bound never drops a part in service.
 */
import type { ServedVariant, StoredModel, VariantStore } from '@swapless/compiler';
import type { DeviceProfile } from '@swapless/tpu-emulator';

/** One split of one model, as the store serves it. */
export type Variant = ServedVariant;

/** A model of this runtime's tenants with the variants they use. */
export class ModelEntry {
  readonly stored: StoredModel;
  readonly #store: VariantStore;
  /** Per device profile (null: the real Edge TPU), per cut: devices with other profiles time other reports. */
  readonly #variants = new Map<DeviceProfile | null, Map<number, Variant>>();

  constructor(store: VariantStore, stored: StoredModel) {
    this.#store = store;
    this.stored = stored;
  }

  /** SHA-256 of the model bytes. */
  get hash(): string {
    return this.stored.sha256;
  }

  /** The model's bytes (the store's own copy). */
  get bytes(): Uint8Array {
    return this.stored.bytes;
  }

  /** Compute ops: cuts are 0..n. */
  get n(): number {
    return this.stored.n;
  }

  /** Compiled by edgetpu_compiler: served whole on a real Edge TPU (its only cut is n). */
  get compiled(): boolean {
    return this.stored.compiled;
  }

  /** Number of variants in use or used by this runtime. */
  get size(): number {
    let n = 0;
    for (const m of this.#variants.values()) n += m.size;
    return n;
  }

  /**
   * The variant at cut k from the store (`profile` null: the real Edge TPU, no emulated report). Errors are the
   * store's: `InvalidCutError`, `UnsupportedModelError` (a compiled model under emulation, a head with no Edge TPU
   * op, a model that cannot be split at k).
   */
  variant(k: number, profile: DeviceProfile | null): Variant {
    let byCut = this.#variants.get(profile);
    if (byCut === undefined) {
      byCut = new Map();
      this.#variants.set(profile, byCut);
    }
    let v = byCut.get(k);
    if (v === undefined) {
      v = this.#store.variant(this.stored, k, profile);
      byCut.set(k, v);
    }
    return v;
  }
}
