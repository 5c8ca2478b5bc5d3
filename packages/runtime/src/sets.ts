/**
 * Co-compiled head sets in the emulated runtime: the heads of a decision's set (`Decision.sets`) run as one unit —
 * one caching token, the set's compile report from the variant store, each member calling its own model of the
 * set — so calls among the members never reload, and the members switch to (or off) the set together with one
 * reconfiguration. Docs: docs/controller.md ("Co-compiled head sets").
 */
import type { StoredModel, VariantStore } from '@swapless/compiler';
import type { DeviceProfile } from '@swapless/tpu-emulator';
import type { Variant } from './variants.js';

/** A member's head inside a co-compiled set: its variant with the set's report and its model index in the set. */
export interface SetVariant extends Variant {
  /** Index of the member's head among the set's models (compile order). */
  readonly setModel: number;
}

/** Where each named tenant sits in a set: the set's key (members and cuts, in order) and its index. */
export interface SetPlace {
  readonly key: string;
  readonly index: number;
  /** The set's members with a head, in compile order. */
  readonly members: readonly { readonly name: string; readonly k: number }[];
}

/**
 * The set place of every tenant of `sets` whose head (k > 0) joins it; a set left with fewer than two heads is
 * none. `cutOf` gives a tenant's cut after the reconfiguration (undefined: not a tenant of the runtime).
 */
export function setPlaces(
  sets: readonly (readonly string[])[] | undefined,
  cutOf: (name: string) => number | undefined,
): Map<string, SetPlace> {
  const out = new Map<string, SetPlace>();
  for (const set of sets ?? []) {
    if (!Array.isArray(set)) continue;
    const members = set.flatMap((name) => {
      const k = typeof name === 'string' ? cutOf(name) : undefined;
      return k !== undefined && k > 0 && !out.has(name) ? [{ name, k }] : [];
    });
    if (members.length < 2) continue;
    const key = members.map((m) => `${m.name}@${m.k}`).join('+');
    members.forEach((m, index) => {
      out.set(m.name, { key, index, members });
    });
  }
  return out;
}

/** The variant of a set member: the set's report (made once per set, order and cuts by the store). */
export function setVariant(
  store: VariantStore,
  own: Variant,
  place: SetPlace,
  modelOf: (name: string) => StoredModel,
  profile: DeviceProfile,
): SetVariant {
  const report = store.coCompiledReport(
    place.members.map((m) => ({ model: modelOf(m.name), k: m.k })),
    profile,
  );
  return { ...own, report, setModel: place.index };
}
