/**
 * Which cuts to profile. `auto` serves the Edge TPU view (the controller only ever chooses cuts whose prefix
 * can run on the Edge TPU; for a model of which nothing maps that is cut 0 alone), `all` and explicit lists
 * serve any model.
 */
import { expected, InvalidArgumentError, InvalidCutError } from '@swapless/core';
import { type CutPoint, type ModelAnalysis, rankCuts } from '@swapless/tflite';

/** How to choose the cuts: see {@link selectCuts}. */
export type CutSelection = 'auto' | 'all' | readonly number[];

/** Default cap on the number of cuts `auto` picks (ends included). */
export const DEFAULT_MAX_CUTS = 12;

/**
 * The cuts `auto` picks: always 0 (CPU-only) and m = the end of the Edge-TPU-mappable prefix (the whole
 * mappable part on the Edge TPU); only 0 when m = 0 (a CPU-only tenant: float models and models whose first op
 * cannot map), plus up to `maxCuts − 2` cheap cuts strictly between them. Cheap means
 * `rankCuts` order (fewest boundary tensors, then fewest bytes leaving the Edge TPU, then fewest boundary bytes).
 * Pure rank order would crowd the picks where activations are smallest (the last stage of a CNN), leaving the
 * queueing model blind over most of the range, so the interior [1, m) is split into `maxCuts − 2` buckets of
 * equal prefix MACs and each bucket contributes its cheapest cut; buckets without a candidate leave their slot
 * to the best-ranked cuts not yet taken.
 */
export function autoCuts(cuts: readonly CutPoint[], analysis: ModelAnalysis, maxCuts: number): number[] {
  const m = analysis.edgetpuPrefix.length;
  // Nothing maps (a float model, or a first op the Edge TPU cannot run): the model is a CPU-only tenant, and its
  // only cut is 0 — the whole model on the CPU.
  if (m === 0) return [0];
  const picked = new Set<number>([0, m]);
  const slots = maxCuts - picked.size;
  const ranked = rankCuts(cuts, { mappableOnly: true }).filter((c) => c.k > 0 && c.k < m);
  if (slots > 0 && ranked.length > 0) {
    const total = cuts[m]!.prefixMacs;
    const best = new Map<number, number>();
    for (const c of ranked) {
      // Ranked order: the first cut seen in a bucket is its cheapest.
      const bucket = total > 0 ? Math.min(slots - 1, Math.floor((c.prefixMacs / total) * slots)) : 0;
      if (!best.has(bucket)) best.set(bucket, c.k);
    }
    for (const k of best.values()) picked.add(k);
    for (const c of ranked) {
      if (picked.size >= maxCuts) break;
      picked.add(c.k);
    }
  }
  return [...picked].sort((a, b) => a - b);
}

/**
 * Resolves a cut selection to ascending unique cut points. `InvalidCutError` (house message) for a cut
 * outside 0..n, `InvalidArgumentError` for a selection of the wrong shape.
 */
export function selectCuts(
  selection: unknown,
  cuts: readonly CutPoint[],
  analysis: ModelAnalysis,
  maxCuts: number,
): number[] {
  const n = analysis.n;
  // Cuts the model cannot be split at (`usable: false`) are never picked; an explicit list fails in the splitter.
  // The ends are always usable (nothing is split there), so `auto` always keeps cut 0: a model that cannot be
  // split at all is still a CPU-only tenant.
  const usable = (k: number): boolean => cuts[k]?.usable !== false;
  if (selection === 'auto') return autoCuts(cuts, analysis, maxCuts).filter(usable);
  if (selection === 'all') return Array.from({ length: n + 1 }, (_, k) => k).filter(usable);
  if (!Array.isArray(selection) || selection.length === 0) {
    throw new InvalidArgumentError(
      expected("'auto', 'all' or a non-empty array of cut points", 'options.cuts', selection),
    );
  }
  for (const k of selection) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > n) {
      throw new InvalidCutError(
        expected(`an integer cut point between 0 and ${n}`, `a model of ${n} ops`, k),
        {
          details: { k: typeof k === 'number' ? k : String(k), n },
        },
      );
    }
  }
  return [...new Set(selection as number[])].sort((a, b) => a - b);
}
