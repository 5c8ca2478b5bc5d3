/**
 * Variant parts made ready for their interpreters once. A tail is loaded by every executor of every configuration
 * that uses its cut (one per worker in mgc mode, again at each reconfiguration back to that cut) and an emulated
 * head by the head worker: preparing the part once here means it is parsed and, for uint8 compute, rewritten to
 * int8 once, and each worker receives the result instead of doing it again.
 */
import { type PreparedModel, prepareModel } from '@swapless/edgetpu';

/** By the identity of the part's bytes (variants are cached per model and cut); weak, so a part goes with them. */
const prepared = new WeakMap<Uint8Array, PreparedModel>();

/**
 * The prepared form of a variant part. Parts come from the variant store (`@swapless/compiler`): split and written
 * from a model the store verified with `readModel` when `addTenant` gave it, or that model's bytes themselves (the
 * store's own copy), so they are trusted (`verify: false`: parsed for the rewrite, not verified again).
 */
export function preparedPart(bytes: Uint8Array): PreparedModel {
  let part = prepared.get(bytes);
  if (part === undefined) {
    part = prepareModel(bytes, { verify: false });
    prepared.set(bytes, part);
  }
  return part;
}
